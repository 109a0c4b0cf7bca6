/**
 * `driftguard serve` as a first-day user starts it: a port already taken, a records path that
 * cannot be used, `npm start` stopped by killing npm. Real processes, real ports.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, SAMPLE_POLICIES } from '../support/fixtures.js';

const CLI = path.join(REPO, 'dist/cli.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'driftguard-start-'));

function serve(args: string[], timeout = 20_000) {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--policies', SAMPLE_POLICIES, ...args], {
    encoding: 'utf8',
    timeout,
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr };
}

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));

/** `driftguard serve` on a free loopback port with the sample policies, its certificates and records in `dir`. */
function serveIn(dir: string): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [
    CLI,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--policies',
    SAMPLE_POLICIES,
    '--cert-dir',
    path.join(dir, 'certs'),
    '--records',
    path.join(dir, 'r.jsonl'),
  ]);
}

describe('serve: startup errors are one coded line', () => {
  it('a port in use: one line with DG_LISTEN, no stack trace, exit 1', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const dir = tmp();
      const r = serve(['--port', String(port), '--cert-dir', path.join(dir, 'certs'), '--records', path.join(dir, 'r.jsonl')]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr)).toEqual([`error DG_LISTEN: cannot listen on 127.0.0.1:${port}: the address is already in use`]);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it.each([
    [
      'under /proc, where no directory can be made',
      '/proc/driftguard/x.jsonl',
      'this file system does not let a directory be created: /proc/driftguard',
    ],
    ['under a file', '<file>/x.jsonl', 'a part of the path is a file, not a directory'],
    ['a directory', '<dir>', 'it is a directory'],
    ['a FIFO (opening it would block the process)', '<fifo>', 'not a regular file (a FIFO or socket)'],
  ])('an unusable records path (%s): exit 2 at once, in words, before any certificate is made', (_what, records, words) => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'file'), '');
    spawnSync('mkfifo', [path.join(dir, 'fifo')]);
    const target = records.replace('<file>', path.join(dir, 'file')).replace('<dir>', dir).replace('<fifo>', path.join(dir, 'fifo'));
    const started = Date.now();
    const r = serve(['--port', '0', '--cert-dir', path.join(dir, 'certs'), '--records', target]);
    expect(r.signal).toBeNull(); // it ended on its own: no spin until the timeout
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(2);
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`error DG_RECORDS: cannot write records to ${target}: ${words}`), lines[0]).toBe(true);
    expect(existsSync(path.join(dir, 'certs'))).toBe(false);
  });

  it('SIGTERM while starting stops it at once', async () => {
    const dir = tmp();
    const child = serveIn(dir);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // As soon as it has said anything (it is running JavaScript), before it serves.
    await until(() => err.length > 0);
    const sent = Date.now();
    child.kill('SIGTERM');
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(Date.now() - sent).toBeLessThan(5_000);
    expect(exit.signal === 'SIGTERM' || exit.code === 0).toBe(true);
  });

  it('logs only JSON lines on stderr; the serving line carries the URL', async () => {
    const dir = tmp();
    const child = serveIn(dir);
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    await until(() => err.includes('"msg":"driftguard serving"'));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    const lines = err.trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const serving = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'driftguard serving');
    expect(serving).toMatchObject({ url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), policies: 3 });
  });
});

describe('npm start', () => {
  it('killing npm (even with SIGKILL) stops the server too', async () => {
    const dir = tmp();
    // --ignore-scripts skips prestart's build (dist/ is built by the global setup), not start itself.
    const npm = spawn(
      'npm',
      [
        'start',
        '--ignore-scripts',
        '--',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--cert-dir',
        path.join(dir, 'certs'),
        '--records',
        path.join(dir, 'r.jsonl'),
      ],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    npm.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    await until(() => /"url":"https:\/\/127\.0\.0\.1:(\d+)"/.test(err), 30_000);
    const port = Number(/"url":"https:\/\/127\.0\.0\.1:(\d+)"/.exec(err)![1]);
    expect(await listening(port)).toBe(true);
    npm.kill('SIGKILL');
    await until(async () => !(await listening(port)), 10_000);
    expect(err).toContain('"reason":"parent process exited"');
  }, 60_000);
});

async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
