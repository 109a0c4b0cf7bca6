/**
 * Where records go: a JSON-lines file (appended, never truncated) or stdout, written with pino.
 * Writes are buffered and asynchronous (SonicBoom) so the admission path never waits on the disk;
 * `flushSync` on shutdown puts every buffered line on disk before the process exits.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { DriftguardError } from '../errors.js';
import { RECORD_SCHEMA } from './schema.js';

export interface RecordSink {
  write(record: object): void;
  /** Write everything buffered, synchronously (shutdown path). */
  flushSync(): void;
  /** Flush and close the destination. */
  close(): Promise<void>;
}

export interface FlushableDestination extends DestinationStream {
  flushSync(): void;
  end(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
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
}

export async function openRecordSink(opts: FileSinkOptions): Promise<RecordSink> {
  const dest =
    opts.destination === '-'
      ? pino.destination({ dest: 1, sync: false })
      : pino.destination({ dest: opts.destination, append: true, mkdir: true, sync: false });
  await new Promise<void>((resolve, reject) => {
    if ((dest as unknown as { fd: number }).fd >= 0 && opts.destination === '-') return resolve();
    dest.once('ready', () => resolve());
    dest.once('error', (err: Error) => reject(new DriftguardError('DG_RECORDS', `cannot open records file ${opts.destination}: ${err.message}`, { cause: err })));
  });
  return sinkOver(dest as unknown as FlushableDestination);
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
