/** A pino destination the record sink can flush synchronously and close (a file, stdout, or the rotating file). */
import type { DestinationStream } from 'pino';

export interface FlushableDestination extends DestinationStream {
  flushSync(): void;
  end(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
}
