/**
 * The bin as it ships: dist/cli.js and the bundle it loads (dist/bin/, scripts/bundle.mjs), with
 * none of the per-module build beside it, and node_modules for what the bundle leaves out
 * (selfsigned, iconv-lite, @kubernetes/client-node). It must serve and judge a review, answer what
 * Express answers (the probes, /metrics with the type Express looks up in mime-types, which the
 * bundle evaluates on first use only), and run a command whose code it loads on demand.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../scripts/serve-flags.mjs';
import { readJson, REPO, SAMPLE_POLICIES } from '../support/fixtures.js';
import { postJson, request } from '../support/https.js';

const exec = promisify(execFile);
let pkg: string;

beforeAll(() => {
  pkg = mkdtempSync(path.join(tmpdir(), 'driftguard-bundle-'));
  mkdirSync(path.join(pkg, 'dist'));
  cpSync(path.join(REPO, 'dist/cli.js'), path.join(pkg, 'dist/cli.js'));
  cpSync(path.join(REPO, 'dist/bin'), path.join(pkg, 'dist/bin'), { recursive: true });
  cpSync(path.join(REPO, 'package.json'), path.join(pkg, 'package.json'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
});

describe('the bundled bin', () => {
  it('holds only the entry point and the bundle', () => {
    expect(readdirSync(path.join(pkg, 'dist')).sort()).toEqual(['bin', 'cli.js']);
  });

  it('serves: a generated certificate, a denied edit with its uid echoed, a record, exit 0 on SIGTERM', async () => {
    const certs = path.join(pkg, 'certs');
    const child = spawn(
      process.execPath,
      [path.join(pkg, 'dist/cli.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--policies', SAMPLE_POLICIES],
      { cwd: pkg, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not serving after 15 s: ${stderr}`)), 15_000);
        child.stderr.on('data', () => {
          const m = /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"driftguard serving"/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        void exited.then(() => reject(new Error(`exited early: ${stderr}`)));
      });
      const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
      review.request.uid = 'bundle-0001';
      const res = await postJson(`${url}/validate`, review, { ca: readFileSync(path.join(certs, 'ca.crt'), 'utf8') });
      expect(res.status).toBe(200);
      expect(res.json.response.uid).toBe('bundle-0001');
      expect(res.json.response.allowed).toBe(false);
      const ca = readFileSync(path.join(certs, 'ca.crt'), 'utf8');
      const ready = await request(`${url}/readyz`, { ca, method: 'GET' });
      expect([ready.status, ready.headers['content-type'], ready.json]).toEqual([
        200,
        'application/json; charset=utf-8',
        { status: 'ready' },
      ]);
      const metrics = await request(`${url}/metrics`, { ca, method: 'GET' });
      expect(metrics.status).toBe(200);
      expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(metrics.text).toMatch(/^driftguard_admission_requests_total\{/m);
      const missing = await request(`${url}/nothing-here`, { ca, method: 'GET' });
      expect([missing.status, missing.json?.error?.code]).toEqual([404, 'DG_NOT_FOUND']);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = readFileSync(path.join(pkg, 'records/driftguard.jsonl'), 'utf8').split('\n').filter(Boolean);
      expect(lines.some((l) => (JSON.parse(l) as { uid?: string }).uid === 'bundle-0001')).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("starts from the code cache the build made: serving with npm start's flags, and a command without flags", async () => {
    const cache = (flags: string[]) =>
      exec(process.execPath, [...flags, path.join(pkg, 'dist/cli.js'), '--version'], {
        cwd: pkg,
        env: { ...process.env, NODE_DEBUG: 'driftguard-cache' },
      });
    expect(readdirSync(path.join(pkg, 'dist/bin')).filter((f) => f.endsWith('.cache'))).toHaveLength(2);
    for (const flags of [SERVE_NODE_FLAGS, []]) {
      const { stdout, stderr } = await cache(flags);
      expect(stdout.trim()).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
      expect(stderr, flags.join(' ')).toMatch(/driftguard\.[0-9a-f]{16}\.cache: used$/m);
    }
    // Flags no cache was made for: none is found, and the program runs as without.
    const other = await cache(['--stack-size=900']);
    expect(other.stderr).toMatch(/driftguard\.[0-9a-f]{16}\.cache: none$/m);
    expect(other.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('runs as without a cache when V8 refuses the one it finds', async () => {
    const spoilt = mkdtempSync(path.join(tmpdir(), 'driftguard-bundle-spoilt-'));
    cpSync(path.join(pkg, 'dist'), path.join(spoilt, 'dist'), { recursive: true });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(spoilt, 'node_modules'), 'dir');
    cpSync(path.join(REPO, 'package.json'), path.join(spoilt, 'package.json'));
    for (const f of readdirSync(path.join(spoilt, 'dist/bin')).filter((n) => n.endsWith('.cache')))
      writeFileSync(path.join(spoilt, 'dist/bin', f), Buffer.alloc(4096, 7));
    try {
      const { stdout, stderr } = await exec(process.execPath, [path.join(spoilt, 'dist/cli.js'), 'policy', 'lint', SAMPLE_POLICIES], {
        cwd: spoilt,
        env: { ...process.env, NODE_DEBUG: 'driftguard-cache' },
      });
      expect(stderr).toMatch(/\.cache: rejected$/m);
      expect(stdout).toMatch(/\d+ file\(s\), \d+ valid polic(y|ies), 0 error\(s\)/);
    } finally {
      rmSync(spoilt, { recursive: true, force: true });
    }
  });

  it('runs a command whose code is loaded when it runs (policy lint)', async () => {
    const { stdout } = await exec(process.execPath, [path.join(pkg, 'dist/cli.js'), 'policy', 'lint', SAMPLE_POLICIES], { cwd: pkg });
    expect(stdout).toMatch(/\d+ file\(s\), \d+ valid polic(y|ies), 0 error\(s\)/);
  });
});
