/** Run the CLI in-process with captured streams (the same `run` the bin calls). */
import { PassThrough, Readable } from 'node:stream';
import { run } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], opts: { stdin?: string; now?: Date; cwd?: string } = {}): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const stdin = Readable.from(opts.stdin === undefined ? [] : [opts.stdin]);
  const code = await run(argv, {
    stdout: out,
    stderr: err,
    stdin,
    clock: () => opts.now ?? new Date('2026-11-24T12:00:00Z'),
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
}
