/**
 * The one bounded background queue behind capture, Events and notifications: `push` is O(1), never
 * waits and never throws (its callers are on the admission path); workers take items off in order,
 * on a later turn of the event loop, one batch at a time. What does not fit is refused and reported
 * through `onDrop`, so a slow or hanging receiver costs queue space and drop counts, never latency.
 * A handler that throws is reported through `onError` and the queue goes on with the next items.
 *
 * `close(graceMs)` is a drain with a deadline: it refuses new items at once, lets the workers send
 * what is queued for at most `graceMs`, then aborts the signal the handlers were given, reports
 * what is still queued as dropped and waits for the handlers to return.
 */

/** Why items were dropped: the queue was full, it was closing, or close's deadline came first. */
export type QueueDropReason = 'full' | 'closed' | 'deadline';

export interface BoundedQueueOptions<T> {
  /** Items waiting at most (the ones a worker holds do not count). */
  capacity: number;
  /** Sends the items a worker took; `signal` aborts when close's deadline has passed. */
  handle: (items: T[], signal: AbortSignal) => Promise<void> | void;
  /** Workers at most (default 1). */
  concurrency?: number;
  /**
   * Items a worker takes at once (default 1), and how long it waits for a batch to fill (default 0):
   * the wait ends early once `size` items are queued or close begins.
   */
  batch?: { size: number; waitMs: number };
  /** Awaited before a worker takes its next items (a rate limit); the items stay queued meanwhile. */
  pace?: (signal: AbortSignal) => Promise<void>;
  /** Items the queue could not keep, and why (for drop counts). */
  onDrop?: (items: readonly T[], reason: QueueDropReason) => void;
  /** A handler (or `pace`) threw: the queue reports it and carries on. */
  onError?: (err: unknown, items: readonly T[]) => void;
}

export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly o: BoundedQueueOptions<T>;
  private readonly concurrency: number;
  private readonly batchSize: number;
  private readonly batchWaitMs: number;
  private readonly abort = new AbortController();
  private active = 0;
  private scheduled = false;
  private closing = false;
  private idle: Array<() => void> = [];
  private readonly batchWakers = new Set<() => void>();

  constructor(opts: BoundedQueueOptions<T>) {
    this.o = opts;
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.batchSize = Math.max(1, opts.batch?.size ?? 1);
    this.batchWaitMs = opts.batch?.waitMs ?? 0;
  }

  /** Queue one item; false (and `onDrop`) when the queue is full or closing. */
  push(item: T): boolean {
    return this.add(item, this.closing);
  }

  /**
   * Queue a handler's own follow-up (an item to send again): like push, but taken while close
   * drains, since finishing such work is what the drain is for; refused only after the deadline.
   */
  followUp(item: T): boolean {
    return this.add(item, this.abort.signal.aborted);
  }

  private add(item: T, refused: boolean): boolean {
    if (refused || this.items.length >= this.o.capacity) {
      this.report(() => this.o.onDrop?.([item], refused ? 'closed' : 'full'));
      return false;
    }
    this.items.push(item);
    if (this.items.length >= this.batchSize) this.wakeBatches();
    this.schedule();
    return true;
  }

  /** Items waiting (not those a worker holds). */
  get pending(): number {
    return this.items.length;
  }

  /** True once close has begun: push refuses from then on. */
  get closed(): boolean {
    return this.closing;
  }

  /** Resolves when nothing is queued and no worker is busy. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Refuse new items, drain for at most `graceMs`, then abort the handlers and drop what is left. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.wakeBatches();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drain(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.abort.abort();
    this.wakeBatches();
    const left = this.items.splice(0);
    if (left.length > 0) this.report(() => this.o.onDrop?.(left, 'deadline'));
    await this.drain();
  }

  private isIdle(): boolean {
    return this.active === 0 && !this.scheduled && (this.items.length === 0 || this.abort.signal.aborted);
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private schedule(): void {
    if (this.scheduled || this.active >= this.concurrency) return;
    this.scheduled = true;
    // A later turn of the event loop: the answer to the request that pushed goes out first.
    setImmediate(() => {
      this.scheduled = false;
      const wanted = Math.ceil(this.items.length / this.batchSize);
      const starting = this.abort.signal.aborted ? 0 : Math.min(this.concurrency - this.active, wanted);
      for (let i = 0; i < starting; i++) void this.work();
      this.settle();
    });
  }

  private async work(): Promise<void> {
    this.active++;
    const signal = this.abort.signal;
    try {
      while (this.items.length > 0 && !signal.aborted) {
        if (this.o.pace !== undefined) {
          try {
            await this.o.pace(signal);
          } catch (err) {
            // A broken rate limit must not spin the worker: it reports and takes the items anyway.
            this.report(() => this.o.onError?.(err, []));
          }
          if (signal.aborted) break;
        }
        if (this.items.length < this.batchSize && !this.closing && this.batchWaitMs > 0) await this.waitForBatch();
        const taken = this.items.splice(0, this.batchSize);
        if (taken.length === 0) continue;
        try {
          await this.o.handle(taken, signal);
        } catch (err) {
          this.report(() => this.o.onError?.(err, taken));
        }
      }
    } finally {
      this.active--;
      // An item pushed while this worker was finishing finds every worker busy: start one for it.
      if (this.items.length > 0 && !signal.aborted) this.schedule();
      this.settle();
    }
  }

  /** Wait for a batch to fill; the timer is unref'd, so a pending wait never keeps the process alive. */
  private waitForBatch(): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.batchWakers.delete(done);
        resolve();
      };
      timer = setTimeout(done, this.batchWaitMs);
      timer.unref();
      this.batchWakers.add(done);
    });
  }

  private wakeBatches(): void {
    for (const wake of [...this.batchWakers]) wake();
  }

  /** A callback that throws must not break push, close or a worker. */
  private report(call: () => void): void {
    try {
      call();
    } catch {
      // The caller's own reporting failed; the queue's state is already consistent.
    }
  }
}
