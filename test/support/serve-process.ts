/**
 * `node dist/cli.js serve` as a child process (the production build, as an operator runs it), on an
 * ephemeral loopback port with its own temp dir for certificates and records. For tests that need
 * signals or a second process to load it.
 */
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
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

const LISTENING = /driftguard listening on (https:\/\/\S+)/;

export async function startServeProcess(opts: { policies?: string[]; args?: string[]; readyTimeoutMs?: number } = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-proc-'));
  const recordsFile = path.join(dir, 'records', 'driftguard.jsonl');
  const certDir = path.join(dir, 'certs');
  const args = [
    path.join(REPO, 'dist', 'cli.js'),
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--cert-dir',
    certDir,
    '--records',
    recordsFile,
    '--log-level',
    'warn',
    ...(opts.policies ?? [SAMPLE_POLICIES]).flatMap((p) => ['--policies', p]),
    ...(opts.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within ${opts.readyTimeoutMs ?? 15_000} ms: ${err}`)), opts.readyTimeoutMs ?? 15_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('utf8');
      const m = LISTENING.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${err}`));
    });
  });
  return {
    child,
    url,
    ca: readFileSync(path.join(certDir, 'ca.crt'), 'utf8'),
    dir,
    recordsFile,
    stderr: () => err,
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Record lines as text (no parsing: the caller checks that none is torn). */
export function recordLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  // A file that does not end in a newline has a torn last line: keep it so the caller sees it.
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
