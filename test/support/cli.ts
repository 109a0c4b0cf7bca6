/** Run the CLI in-process with captured output. */
import { PassThrough, Readable } from 'node:stream';
import type { StdinKind } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `stdin` is piped in; without it stdin is nothing to read (`</dev/null`), unless `stdinKind` says otherwise. */
export async function cli(
  argv: string[],
  opts: { stdin?: string; stdinKind?: StdinKind; now?: Date; cwd?: string } = {},
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await run(argv, {
    stdout: out,
    stderr: err,
    stdin: Readable.from(opts.stdin === undefined ? [] : [opts.stdin]),
    stdinKind: opts.stdinKind ?? (opts.stdin === undefined ? 'none' : 'pipe'),
    clock: () => opts.now ?? new Date('2026-11-24T12:00:00Z'),
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, stdout, stderr };
}
