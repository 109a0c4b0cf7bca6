/**
 * Where records go: a JSON-lines file (appended, never truncated) or stdout, through pino's
 * SonicBoom destination.
 *
 * Lines are gathered in memory and written in batches — when 64 KiB have gathered or every 50 ms —
 * with one synchronous append (write(2)) each, through SonicBoom. Change records only join the
 * batch; after violation records the handler calls `flush` once before their answers are sent
 * (admission/handler.ts): the batch goes to the OS with one write(2), so a denial the user was
 * told about is in the file even if the process is killed the next moment. (SonicBoom's own
 * `flushSync` also fsyncs, which costs a disk round trip: kept for shutdown and rotation.) Because no write is ever left in flight, `flushSync` on shutdown always puts
 * every buffered line on disk, in order, and a line can never be torn or reordered (an asynchronous
 * destination cannot promise either: its flushSync skips the write in flight).
 */
import pino from 'pino';
import { DriftguardError, systemErrorText } from '../errors.js';
import { checkAppendable } from '../files.js';
import type { FlushableDestination } from './destination.js';
import { rotateIfFull, rotatingDestination, type RotationOptions } from './rotate.js';
import { RECORD_SCHEMA } from './record.js';

export interface RecordSink {
  write(record: object): void;
  /** Hand every gathered line to the OS now: one write(2), no fsync (the request path). */
  flush(): void;
  /** Write everything buffered, synchronously (shutdown path). */
  flushSync(): void;
  /** Flush and close the destination. */
  close(): Promise<void>;
}

/** The record as written: as built (records/builders.ts puts the schema first), else a copy that does. */
function schemaFirst(record: object): object {
  for (const first in record) {
    if (first === 'schema' && (record as { schema?: unknown }).schema === RECORD_SCHEMA) return record;
    break;
  }
  const { schema: _schema, ...rest } = record as { schema?: unknown };
  return { schema: RECORD_SCHEMA, ...rest };
}

/**
 * A sink over any destination: one JSON line per record, the record schema first (every line
 * starts with it). Records are plain JSON data built by records/builders.ts, so `JSON.stringify`
 * writes exactly what a generic logger would, at a third of the cost (pino's per-key serialisation
 * was 7.5% of a denied edit's CPU: docs/performance.md).
 */
/** A record's line as the sink writes it (without the newline): what the records store derives a record's id from. */
export function recordLine(record: object): string {
  return JSON.stringify(schemaFirst(record));
}

function sinkOver(destination: FlushableDestination): RecordSink {
  return {
    write(record) {
      destination.write(`${recordLine(record)}\n`);
    },
    flush() {
      destination.flush?.();
    },
    flushSync() {
      destination.flushSync();
    },
    close() {
      return new Promise((resolve) => {
        try {
          destination.flushSync();
        } catch {
          // nothing buffered, or the destination is already closed
        }
        destination.once('close', () => resolve());
        destination.once('error', () => resolve());
        destination.end();
      });
    },
  };
}

export interface FileSinkOptions {
  /** A file path, or "-" for stdout. */
  destination: string;
  /** Rotate a records file by size (ignored for stdout); without it the file only grows. */
  rotation?: RotationOptions;
  /** A rotation that could not rename files (the sink keeps writing to the file it has). */
  onRotationError?: (err: Error) => void;
}

/** Batch size and latency of record writes (see the module comment). */
const RECORD_BATCH_BYTES = 64 * 1024;
const RECORD_FLUSH_MS = 50;

/**
 * Throws DG_RECORDS, in words, when the records destination cannot be used: a directory that
 * cannot be created, a path under a file, a file that cannot be opened for appending. serve calls
 * it before anything else is written (certificates, captures). Creates the directory and an empty
 * file when they are missing, as opening the sink would.
 */
export function checkRecordsDestination(destination: string): void {
  if (destination === '-') return;
  try {
    checkAppendable(destination);
  } catch (err) {
    throw new DriftguardError('DG_RECORDS', `cannot write records to ${destination}: ${systemErrorText(err)}`, { cause: err });
  }
}

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Batches lines above a SonicBoom that writes each `write` at once (minLength 0, synchronous):
 * `flush` writes the batch with one write(2) and no fsync; `flushSync` also fsyncs (shutdown,
 * rotation). Never leaves a write in flight, so no line is torn or reordered.
 */
function batchedDestination(sonic: SonicBoom, opts: { maxBytes: number; intervalMs: number }): FlushableDestination & { reopen(): void } {
  let pending = '';
  const flush = (): void => {
    if (pending === '') return;
    const batch = pending;
    pending = '';
    sonic.write(batch);
  };
  const timer = setInterval(flush, opts.intervalMs);
  timer.unref();
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= opts.maxBytes) flush();
      return true;
    },
    flush,
    flushSync() {
      flush();
      sonic.flushSync();
    },
    reopen() {
      sonic.reopen();
    },
    end() {
      clearInterval(timer);
      flush();
      sonic.end();
    },
    on: (event, listener) => sonic.on(event, listener),
    once: (event, listener) => sonic.once(event, listener),
  };
}

export async function openRecordSink(opts: FileSinkOptions): Promise<RecordSink> {
  checkRecordsDestination(opts.destination);
  const batching = { sync: true, minLength: 0 };
  const rotation = opts.destination === '-' ? undefined : opts.rotation;
  let dest;
  let initialBytes = 0;
  try {
    if (rotation !== undefined) initialBytes = rotateIfFull(opts.destination, rotation);
    dest =
      opts.destination === '-'
        ? pino.destination({ dest: 1, ...batching })
        : pino.destination({ dest: opts.destination, append: true, ...batching });
  } catch (err) {
    throw new DriftguardError('DG_RECORDS', `cannot open records file ${opts.destination}: ${systemErrorText(err)}`, { cause: err });
  }
  const batched = batchedDestination(dest, { maxBytes: RECORD_BATCH_BYTES, intervalMs: RECORD_FLUSH_MS });
  if (rotation === undefined) return sinkOver(batched);
  return sinkOver(rotatingDestination(batched, opts.destination, rotation, initialBytes, opts.onRotationError));
}

/** Records kept in memory: for tests and for `evaluate`, which writes nothing. */
export function memorySink(): RecordSink & { records: object[] } {
  const records: object[] = [];
  return {
    records,
    write(record) {
      records.push(JSON.parse(JSON.stringify(record)) as object);
    },
    flush() {},
    flushSync() {},
    async close() {},
  };
}
