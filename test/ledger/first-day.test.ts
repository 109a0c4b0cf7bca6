/**
 * explain, history and audit as a first-day user runs them: --field mistakes, stdin that is not a
 * pipe (cron, CI, `ssh host cmd`, </dev/null), a kind that does not exist, a forgotten -n, and a
 * terminal narrower than the table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import { table } from '../../src/cli/table.js';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

const CLI = path.join(REPO, 'dist/cli.js');
const DAY = path.join(REPO, 'examples/recorded-day');

describe('--field takes a JSON Pointer in every command', () => {
  it.each([
    ['explain', 'deploy/checkout', '-n', 'shop-canary', DAY],
    ['history', 'deploy/checkout', '-n', 'shop-canary', DAY],
    ['audit', DAY],
  ])('%s --field spec.replicas is a usage error with the fix', async (...argv) => {
    const r = await cli([...argv, '--field', 'spec.replicas']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error DG_USAGE: --field takes a path such as /spec/replicas or /spec/template/spec/containers[name=api]/image, got spec.replicas (did you mean /spec/replicas?)\n',
    );
  });
});

describe('stdin that is not a pipe: the same as from a terminal', () => {
  /** A working directory whose records/driftguard.jsonl is the recorded day. */
  function project(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-stdin-'));
    mkdirSync(path.join(dir, 'records'));
    const lines = spawnSync('cat', [path.join(DAY, 'driftguard-a.jsonl'), path.join(DAY, 'driftguard-b.jsonl')], {
      encoding: 'utf8',
    }).stdout;
    writeFileSync(path.join(dir, 'records', 'driftguard.jsonl'), lines);
    return dir;
  }

  it('explain </dev/null reads the default records file, as from a terminal (a real process)', () => {
    const cwd = project();
    const r = spawnSync(process.execPath, [CLI, 'explain', 'deploy/checkout', '-n', 'shop-canary', '-o', 'json'], {
      cwd,
      stdio: [openSync('/dev/null', 'r'), 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).stats.files).toEqual([path.join(cwd, 'records', 'driftguard.jsonl')]);
  });

  it('history with an empty pipe (ssh host cmd, a CI step) reads the default records file too', () => {
    const cwd = project();
    const r = spawnSync(process.execPath, [CLI, 'history', 'deploy/checkout', '-n', 'shop-canary', '-o', 'json'], {
      cwd,
      input: '',
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).entries.length).toBeGreaterThan(5);
  });

  it('a pipe with records in it is still read', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'driftguard-stdin-'));
    const lines = spawnSync('cat', [path.join(DAY, 'driftguard-a.jsonl')], { encoding: 'utf8' }).stdout;
    const r = spawnSync(process.execPath, [CLI, 'history', 'deploy/checkout', '-n', 'shop-canary', '-o', 'json'], {
      cwd,
      input: lines,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).stats.files).toEqual(['-']);
  });

  it('audit </dev/null gives the same usage error as from a terminal, not "0 violations"', () => {
    const r = spawnSync(process.execPath, [CLI, 'audit'], { stdio: [openSync('/dev/null', 'r'), 'pipe', 'pipe'], encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error DG_USAGE: name the records to read/);
    const terminal = spawnSync(process.execPath, [CLI, 'audit'], { input: '', encoding: 'utf8' });
    expect(terminal.status).toBe(2);
  });
});

describe('explain names what is wrong with the object', () => {
  it('an unknown kind is said to be one', async () => {
    const r = await cli(['explain', 'foo/web', '-n', 'shop-canary', DAY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error DG_USAGE: foo is not a known kind/);
  });

  it('a forgotten -n names the namespaces that have records for the name', async () => {
    const r = await cli(['explain', 'deploy/checkout', DAY]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('checkout has records in namespace shop-canary (no -n given: default was used): try -n shop-canary.');
    const h = await cli(['history', 'deploy/checkout', '-n', 'prod', DAY]);
    expect(h.stderr).toContain('try -n shop-canary.');
  });
});

describe('explain fits the terminal', () => {
  async function explainOn(columns: number | undefined): Promise<string> {
    const out = Object.assign(new PassThrough(), columns === undefined ? {} : { isTTY: true, columns });
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    await run(['explain', 'deploy/checkout', '-n', 'shop-canary', DAY], {
      stdout: out,
      stderr: new PassThrough(),
      stdin: Readable.from([]),
      stdinKind: 'terminal',
      clock: () => new Date('2026-11-24T12:00:00Z'),
      cwd: REPO,
    });
    return text;
  }

  it('no line is wider than the terminal; piped, the table is whole', async () => {
    const whole = await explainOn(undefined);
    expect(Math.max(...whole.split('\n').map((l) => l.length))).toBeGreaterThan(160);
    for (const columns of [100, 160]) {
      const lines = (await explainOn(columns)).trimEnd().split('\n');
      expect(lines.length).toBe(whole.trimEnd().split('\n').length);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(columns);
    }
  });

  it('a cut cell keeps its start and end', () => {
    const t = table(['A', 'B'], [['system:serviceaccount:argocd:argocd-application-controller', 'x']], { width: 30 });
    expect(t.split('\n')[1]).toMatch(/^system:ser.*….*controller\s+x$/);
  });
});
