/** What a command may touch, passed in so tests can run commands in-process. */
import { fstatSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { isatty } from 'node:tty';

/**
 * What standard input is: a terminal, a pipe or socket (`kubectl logs | driftguard ...`, ssh), a
 * redirected file, or nothing to read (`</dev/null`, cron, a closed descriptor).
 */
export type StdinKind = 'terminal' | 'pipe' | 'file' | 'none';

/** The kind of file descriptor 0 of this process. */
export function stdinKind(fd = 0): StdinKind {
  try {
    const st = fstatSync(fd);
    if (st.isFIFO() || st.isSocket()) return 'pipe';
    if (st.isFile()) return 'file';
    return isatty(fd) ? 'terminal' : 'none';
  } catch {
    return 'none';
  }
}

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  /** What stdin is (stdinKind()): only a pipe or a file is read when no source is named. */
  stdinKind: StdinKind;
  clock: () => Date;
  /** Working directory for relative defaults. */
  cwd: string;
}

export function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * Standard input as the default source: when it is a pipe or a file and delivers at least one
 * byte, a stream of all of it; otherwise undefined, so that a command run from cron, CI or
 * `ssh host cmd` with nothing piped in behaves as it does from a terminal.
 */
export async function pipedStdin(io: CliIO): Promise<Readable | undefined> {
  if (io.stdinKind !== 'pipe' && io.stdinKind !== 'file') return undefined;
  const it = io.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = await it.next();
  if (first.done === true || first.value.length === 0) return undefined;
  return Readable.from(
    (async function* () {
      yield first.value;
      for (;;) {
        const next = await it.next();
        if (next.done === true) return;
        yield next.value;
      }
    })(),
  );
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Exit codes, as docs/cli.md lists them. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
