/** Start `node dist/cli.js serve` as a real process (dist/ is built by the global setup). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, SAMPLE_POLICIES } from './fixtures.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  ca: string;
  dir: string;
  recordsFile: string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnServe(extraArgs: string[] = [], opts: { policies?: string } = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-proc-'));
  const recordsFile = path.join(dir, 'records.jsonl');
  const child = spawn(
    process.execPath,
    [
      path.join(REPO, 'dist/cli.js'),
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--policies',
      opts.policies ?? SAMPLE_POLICIES,
      '--cert-dir',
      path.join(dir, 'certs'),
      '--records',
      recordsFile,
      // info: the line that says it is serving, with its URL, is an info line.
      '--log-level',
      'info',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 15_000);
    const onData = (): void => {
      // serve logs JSON lines; the one that says it is serving carries the URL.
      const m = /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"driftguard serving"/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`serve exited early: ${err}`)));
  });
  return { child, url, ca: readFileSync(path.join(dir, 'certs', 'ca.crt'), 'utf8'), dir, recordsFile, stderr: () => err, exited };
}
