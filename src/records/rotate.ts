/**
 * Size-based rotation of the records file: before a line would take NAME past `maxBytes`, NAME
 * becomes NAME.1 (NAME.1 becomes NAME.2, ..., NAME.<maxFiles> is deleted) and a new NAME is
 * opened. The reader (read.ts) reads NAME and its NAME.N siblings together, oldest first.
 *
 * No line is lost, split or reordered: the destination writes synchronously (sink.ts), so at the
 * moment of rotation everything buffered is flushed to the old file, complete and in order, the file
 * is renamed, and the destination reopens on a new file before the next line is written. A file
 * stays within maxBytes unless one line alone is larger. A restart appends to NAME.
 */
import { existsSync, renameSync, statSync, unlinkSync } from 'node:fs';
import type { FlushableDestination } from './destination.js';

/** The file destination below rotation: SonicBoom, or the batching layer over it (sink.ts). */
type Reopenable = FlushableDestination & { reopen(): void };

export interface RotationOptions {
  /** A file holds at most this many bytes (unless a single line is larger). */
  maxBytes: number;
  /** Rotated files kept (NAME.1 ... NAME.<maxFiles>); older ones are deleted. At least 1. */
  maxFiles: number;
}

function rotatedName(file: string, n: number): string {
  return `${file}.${n}`;
}

/** NAME.(k) -> NAME.(k+1) for every kept k, NAME -> NAME.1; the oldest beyond maxFiles is deleted. */
function shiftFiles(file: string, maxFiles: number): void {
  const oldest = rotatedName(file, maxFiles);
  if (existsSync(oldest)) unlinkSync(oldest);
  for (let n = maxFiles - 1; n >= 1; n--) {
    const from = rotatedName(file, n);
    if (existsSync(from)) renameSync(from, rotatedName(file, n + 1));
  }
  if (existsSync(file)) renameSync(file, rotatedName(file, 1));
}

/** Bytes already in the file (a restart appends), 0 when it does not exist yet. */
function currentSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Before the file is opened: a file an earlier run left at or over the limit is rotated first, so
 * the new run starts a fresh file and never truncates. Returns the bytes already in NAME.
 */
export function rotateIfFull(file: string, opts: RotationOptions): number {
  const size = currentSize(file);
  if (size > 0 && size >= opts.maxBytes) {
    shiftFiles(file, opts.maxFiles);
    return 0;
  }
  return size;
}

export interface RotatingDestination extends FlushableDestination {
  /** Rotations done since the destination was opened. */
  readonly rotations: number;
}

/**
 * A pino destination over the records file's SonicBoom that rotates by size. pino hands it one
 * whole line per write. A rename that fails is reported through `onError`; the destination keeps
 * writing to the file it has and tries again after another maxBytes: a record is never dropped
 * because rotation failed.
 */
export function rotatingDestination(
  dest: Reopenable,
  file: string,
  opts: RotationOptions,
  initialBytes: number,
  onError: (err: Error) => void = () => {},
): RotatingDestination {
  let bytes = initialBytes;
  let rotations = 0;
  const rotate = (): void => {
    try {
      // Synchronous and complete: every line accepted so far lands in the file being retired.
      dest.flushSync();
      shiftFiles(file, opts.maxFiles);
      dest.reopen();
      rotations++;
    } catch (err) {
      onError(err as Error);
    }
    bytes = 0;
  };
  return {
    write(line: string) {
      const n = Buffer.byteLength(line);
      if (bytes > 0 && bytes + n > opts.maxBytes) rotate();
      bytes += n;
      return dest.write(line);
    },
    flush: () => dest.flush?.(),
    flushSync: () => dest.flushSync(),
    end: () => dest.end(),
    on: (event, listener) => dest.on(event, listener),
    once: (event, listener) => dest.once(event, listener),
    get rotations() {
      return rotations;
    },
  };
}
