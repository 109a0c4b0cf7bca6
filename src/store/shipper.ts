/**
 * Shipping records to the store from serve, off the answer's path. The durability rule is the
 * records file's: a record reaches stdout or the file before the answer is sent (records/sink.ts);
 * the store gets it afterwards, asynchronously: lines are queued in memory and sent in batches (one
 * COPY into a staging table, then an INSERT that skips rows already stored, idempotent by record id: store/write.ts), one batch at a time. When the store
 * cannot be reached or refuses a write, the batch and everything queued after it go to the spool
 * (store/spool.ts), and from then on new lines go there too, so order is kept; the spool is drained
 * from its start, in order, when the store answers again, and only then does shipping from memory
 * resume. A full spool drops lines from the store's way (counted; they are still in the records
 * file, for `driftguard store import`). Nothing here ever throws into a request.
 */
import { errorMessage } from '../errors.js';
import { recordLine } from '../records/sink.js';
import type { Store } from './connect.js';
import { storeError } from './connect.js';
import { checkSchema, migrate } from './migrations.js';
import { toRow, type StoreRow } from './row.js';
import { Spool } from './spool.js';
import { dropExpiredPartitions, insertRows, Partitions } from './write.js';

interface ShipperEvents {
  /** Rows sent in one batch (new: those not in the store before). */
  onShipped?(sent: number, inserted: number): void;
  /** A batch failed; the error is a DG_STORE / DG_STORE_SCHEMA error in words. */
  onFailure?(err: Error): void;
  /** The store answered again after failures. */
  onRecovered?(): void;
  /** Lines the spool had no room for. */
  onDropped?(n: number): void;
  /** Monthly partitions dropped past the retention. */
  onPruned?(partitions: string[]): void;
}

export interface ShipperOptions {
  store: Store;
  spoolFile: string;
  spoolMaxBytes: number;
  clock: () => Date;
  /** Run the migrations at start (serve --store-migrate); otherwise the schema is only checked. */
  migrate?: boolean;
  /** Drop monthly partitions older than this (0 or undefined: keep all). */
  retentionMs?: number;
  /** Rows per INSERT (default 2,000). */
  batchMax?: number;
  /** How often queued lines are sent (default 100 ms). */
  intervalMs?: number;
  /** Lines queued in memory before they go to the spool instead (default 50,000). */
  memoryMax?: number;
  /** First retry after a failure; doubles up to 30 s (default 500 ms). */
  retryMs?: number;
  events?: ShipperEvents;
}

interface Pending {
  /** The record as written, or its line (JSON text is made off the answer's path, in the batch). */
  item: object | string;
  /** The record's time, ms: how long it has waited, for the lag. */
  t: number;
}

function lineOf(p: Pending): string {
  return typeof p.item === 'string' ? p.item : recordLine(p.item);
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Records turned into lines at once on their way to the spool (toSpool). */
const SPOOL_SLICE = 1_000;

/** Lines parsed into rows between two turns of the event loop (send). */
const ROW_SLICE = 250;

export class Shipper {
  private readonly spool: Spool;
  private readonly partitions = new Partitions();
  private queue: Pending[] = [];
  private spooling = false;
  /** Time (ms) of the oldest record in the spool, while it holds any. */
  private spoolOldest: number | undefined;
  private failing = false;
  private retryDelay: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private schemaChecked = false;
  private lastPrune = -Infinity;
  private readonly o: Required<Pick<ShipperOptions, 'batchMax' | 'intervalMs' | 'memoryMax' | 'retryMs'>> & ShipperOptions;

  constructor(opts: ShipperOptions) {
    this.o = { batchMax: 2_000, intervalMs: 100, memoryMax: 50_000, retryMs: 500, ...opts };
    this.spool = new Spool(opts.spoolFile, opts.spoolMaxBytes);
    this.retryDelay = this.o.retryMs;
  }

  /**
   * Open the spool and reach the store once: returns 'reachable' when the store took a check of
   * its schema (and the migrations, with migrate), else 'spooling' with the error, after which
   * records wait in the spool and the store is tried again in the background.
   */
  async start(): Promise<{ state: 'reachable' } | { state: 'spooling'; error: Error }> {
    await this.spool.open();
    if (this.spool.pending() > 0) {
      this.spooling = true;
      this.spoolOldest = this.o.clock().getTime();
    }
    let result: { state: 'reachable' } | { state: 'spooling'; error: Error };
    try {
      await this.prepare();
      result = { state: 'reachable' };
    } catch (err) {
      const e = storeError(err, this.o.store.display, 'reach');
      this.failing = true;
      this.spooling = true;
      this.o.events?.onFailure?.(e);
      result = { state: 'spooling', error: e };
    }
    this.schedule(this.failing ? this.retryDelay : this.o.intervalMs);
    return result;
  }

  /**
   * Queue one record (written to the records file just before) or its line. Synchronous and O(1):
   * the request path calls it; the record must not change afterwards (records are built per write).
   */
  enqueue(item: object | string, timeMs: number): void {
    if (this.closed) return;
    this.queue.push({ item, t: timeMs });
  }

  /** Bytes in the spool not yet in the store. */
  spoolBytes(): number {
    return this.spool.pending();
  }

  /** Seconds the oldest record not yet in the store has waited (0 when none waits). */
  lagSeconds(): number {
    const now = this.o.clock().getTime();
    let oldest: number | undefined;
    if (this.spool.pending() > 0 && this.spoolOldest !== undefined) oldest = this.spoolOldest;
    const head = this.queue[0];
    if (head !== undefined && (oldest === undefined || head.t < oldest)) oldest = head.t;
    return oldest === undefined ? 0 : Math.max(0, (now - oldest) / 1000);
  }

  /** Whether lines are going to the spool now (the store failed, or the spool is being drained). */
  isSpooling(): boolean {
    return this.spooling;
  }

  private async prepare(): Promise<void> {
    const { pool, display } = this.o.store;
    if (this.o.migrate === true) await migrate(pool, display);
    await checkSchema(pool, display);
    this.schemaChecked = true;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.running = this.step().finally(() => {
        this.running = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  /** One step: drain the spool if it holds lines, else send a batch from memory. Never throws. */
  private async step(): Promise<void> {
    let next = this.o.intervalMs;
    try {
      if (!this.schemaChecked) await this.prepare();
      if (this.spooling) {
        // Keep order: what is queued goes behind what is spooled.
        await this.toSpool(this.queue.splice(0));
        const { lines, next: offset } = await this.spool.peek(this.o.batchMax);
        await this.send(lines);
        await this.spool.advance(offset);
        if (this.spool.pending() === 0) {
          this.spooling = false;
          this.spoolOldest = undefined;
        } else next = 0;
      } else if (this.queue.length > 0) {
        const batch = this.queue.slice(0, this.o.batchMax);
        try {
          await this.send(batch.map((p) => lineOf(p)));
        } catch (err) {
          // The failed batch and everything after it wait in the spool, in order.
          this.spooling = true;
          this.spoolOldest = batch[0]!.t;
          await this.toSpool(this.queue.splice(0));
          throw err;
        }
        this.queue.splice(0, batch.length);
        if (this.queue.length > this.o.memoryMax) {
          this.spooling = true;
          this.spoolOldest = this.queue[0]!.t;
          await this.toSpool(this.queue.splice(0));
        }
        if (this.queue.length >= this.o.batchMax) next = 0;
      }
      if (this.failing) {
        this.failing = false;
        this.retryDelay = this.o.retryMs;
        this.o.events?.onRecovered?.();
      }
      await this.prune();
    } catch (err) {
      this.failing = true;
      this.spooling = true;
      await this.toSpool(this.queue.splice(0)).catch(() => undefined);
      this.o.events?.onFailure?.(storeError(err, this.o.store.display, 'write to'));
      next = this.retryDelay;
      this.retryDelay = Math.min(30_000, this.retryDelay * 2);
    }
    this.schedule(next);
  }

  private async send(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const rows: StoreRow[] = [];
    for (const [i, line] of lines.entries()) {
      // A batch's rows (JSON.parse and a SHA-256 each) are about 40 ms of CPU on a loaded 2-core
      // machine: made a slice at a time, so reviews are answered in between.
      if (i > 0 && i % ROW_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        continue;
      }
      const row = typeof record === 'object' && record !== null ? toRow(line, record as Record<string, unknown>) : undefined;
      if (row !== undefined) rows.push(row);
    }
    const inserted = await insertRows(this.o.store.pool, this.partitions, rows).catch((err: unknown) => {
      // A partition dropped by someone else's retention, or a failover to a fresh primary: look again next time.
      this.partitions.forget();
      throw err;
    });
    this.o.events?.onShipped?.(rows.length, inserted);
  }

  /**
   * Spool records in order, their lines made (JSON text) a slice at a time with each slice's
   * append awaited in between, so a long queue never holds the event loop.
   */
  private async toSpool(items: readonly Pending[]): Promise<void> {
    if (items.length === 0) return;
    if (this.spool.pending() === 0) this.spoolOldest = items[0]!.t;
    let spooled = 0;
    while (spooled < items.length) {
      const lines = items.slice(spooled, spooled + SPOOL_SLICE).map((p) => lineOf(p));
      const n = await this.spool.append(lines);
      spooled += n;
      if (n < lines.length) break;
    }
    if (spooled < items.length) this.o.events?.onDropped?.(items.length - spooled);
  }

  private async prune(): Promise<void> {
    const retention = this.o.retentionMs ?? 0;
    const now = this.o.clock().getTime();
    if (retention <= 0 || now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    try {
      const dropped = await dropExpiredPartitions(this.o.store.pool, new Date(now), retention);
      if (dropped.length > 0) this.o.events?.onPruned?.(dropped);
    } catch (err) {
      this.o.events?.onFailure?.(storeError(err, this.o.store.display, `drop old partitions (${errorMessage(err)}) of`));
    }
  }

  /**
   * Stop: wait for the step in flight, send what is queued (for at most `graceMs`), and spool what
   * could not be sent, so a restart ships it. Then close the pool.
   */
  async close(graceMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    const deadline = Date.now() + graceMs;
    try {
      while (!this.spooling && this.queue.length > 0 && Date.now() < deadline) {
        const batch = this.queue.slice(0, this.o.batchMax);
        await this.send(batch.map((p) => lineOf(p)));
        this.queue.splice(0, batch.length);
      }
    } catch (err) {
      this.o.events?.onFailure?.(storeError(err, this.o.store.display, 'write to'));
    }
    await this.toSpool(this.queue.splice(0)).catch(() => undefined);
    await this.o.store.close();
  }
}
