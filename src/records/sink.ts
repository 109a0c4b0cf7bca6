/**
 * Where records go: a JSON-lines file (appended, never truncated) or stdout, written with pino.
 *
 * The destination (SonicBoom) buffers lines in memory and writes them in batches — when 4 KiB have
 * gathered or every 50 ms — with one synchronous append each. The request path only appends to
 * an in-memory buffer. Because no write is ever left in flight, `flushSync` on shutdown always puts
 * every buffered line on disk, in order, and a line can never be torn or reordered (an asynchronous
 * destination cannot promise either: its flushSync skips the write in flight).
 */
import pino, { type Logger } from 'pino';
import { DriftguardError } from '../errors.js';
import type { FlushableDestination } from './destination.js';
import { rotateIfFull, rotatingDestination, type RotationOptions } from './rotate.js';
import { RECORD_SCHEMA } from './schema.js';

export interface RecordSink {
  write(record: object): void;
  /** Write everything buffered, synchronously (shutdown path). */
  flushSync(): void;
  /** Flush and close the destination. */
  close(): Promise<void>;
}

/**
 * A sink over any pino destination. Records carry their own `time`; pino's level slot carries the
 * record schema instead (so every line starts with it), and nothing else is added.
 */
export function sinkOver(destination: FlushableDestination): RecordSink {
  const logger: Logger = pino(
    { base: null, timestamp: false, formatters: { level: () => ({ schema: RECORD_SCHEMA }) }, messageKey: 'message' },
    destination,
  );
  return {
    write(record) {
      const { schema: _schema, ...rest } = record as { schema?: unknown };
      logger.info(rest);
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
export const RECORD_BATCH_BYTES = 4096;
export const RECORD_FLUSH_MS = 50;

export async function openRecordSink(opts: FileSinkOptions): Promise<RecordSink> {
  const batching = { sync: true, minLength: RECORD_BATCH_BYTES, periodicFlush: RECORD_FLUSH_MS };
  const rotation = opts.destination === '-' ? undefined : opts.rotation;
  let dest;
  let initialBytes = 0;
  try {
    if (rotation !== undefined) initialBytes = rotateIfFull(opts.destination, rotation);
    dest =
      opts.destination === '-'
        ? pino.destination({ dest: 1, ...batching })
        : pino.destination({ dest: opts.destination, append: true, mkdir: true, ...batching });
  } catch (err) {
    throw new DriftguardError('DG_RECORDS', `cannot open records file ${opts.destination}: ${(err as Error).message}`, { cause: err });
  }
  if (rotation === undefined) return sinkOver(dest as unknown as FlushableDestination);
  return sinkOver(rotatingDestination(dest, opts.destination, rotation, initialBytes, opts.onRotationError));
}

/** Records kept in memory: for tests and for `evaluate`, which writes nothing. */
export function memorySink(): RecordSink & { records: object[] } {
  const records: object[] = [];
  return {
    records,
    write(record) {
      records.push(JSON.parse(JSON.stringify(record)) as object);
    },
    flushSync() {},
    async close() {},
  };
}
