/** What a command may touch, passed in so tests can run commands in-process. */
import type { Readable, Writable } from 'node:stream';

export interface CliIO {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  clock: () => Date;
  /** Working directory for relative defaults. */
  cwd: string;
}

export function write(stream: Writable, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Exit codes, as docs/cli.md lists them. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
