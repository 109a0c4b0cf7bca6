/** `driftguard audit` end to end: real record files, globs, stdin, and the bin from dist/. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { fixturePath, REPO } from '../support/fixtures.js';

const DIR = fixturePath('records', 'audit');
const A = path.join(DIR, 'replica-a.jsonl');
const B = path.join(DIR, 'replica-b.jsonl');

describe('driftguard audit', () => {
  it('summarizes a directory of replicas and reports the malformed lines on stderr, exit 0', async () => {
    const r = await cli(['audit', DIR]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^19 violations from/);
    expect(r.stdout).toMatch(/TOP ACTORS[\s\S]*oidc:jane@example\.com/);
    expect(r.stderr).toMatch(/2 malformed lines skipped \(.*replica-a\.jsonl:4, .*replica-a\.jsonl:11\)/);
    expect(r.stderr).toContain('1 change records (not violations, skipped)');
  });

  it('filters by user glob, namespace and decision into a CSV list', async () => {
    const r = await cli(['audit', A, B, '--view', 'list', '-o', 'csv', '--user', 'oidc:*', '-n', 'prod-*', '--decision', 'denied']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\r\n');
    expect(rows).toHaveLength(1 + 6);
    expect(rows.slice(1).every((l) => l.includes(',denied,false,enforce,argocd-prod,oidc:jane@example.com,'))).toBe(true);
  });

  it('reads a glob and the --since/--until window', async () => {
    const r = await cli(['audit', path.join(DIR, 'replica-*.jsonl'), '--since', '2026-11-21', '--until', '2026-11-22', '-o', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.total).toBe(3);
    expect(out.summary.counts).toEqual({ denied: 2, warned: 0, audited: 0, 'break-glass': 1 });
    // Malformed and foreign lines are counted whatever their time; the change record (11-20) is outside.
    expect(out.read).toMatchObject({ malformed: 2, foreign: 1, changes: 0, violations: 3 });
  });

  it('takes a field and a kind, as kubectl users write them', async () => {
    const r = await cli(['audit', DIR, '--field', '/spec/replicas', '--kind', 'deployments', '--view', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+DECISION\s+POLICY\s+ACTOR\s+OP\s+OBJECT\s+FIELDS$/);
    expect(lines).toHaveLength(1 + 4);
    expect(lines.slice(1).every((l) => l.includes('/spec/replicas'))).toBe(true);
  });

  it('reads records piped in, with kubectl logs --prefix in front of each line', async () => {
    const piped = readFileSync(A, 'utf8')
      .split('\n')
      .map((l) => (l === '' ? l : `[pod/driftguard-7d9c-abcde/driftguard] ${l}`))
      .join('\n');
    const r = await cli(['audit', '-', '-o', 'json'], { stdin: piped });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary.total).toBe(9);
  });

  it('answers usage mistakes with exit 2 and a message', async () => {
    for (const args of [
      ['--decision', 'rejected'],
      ['--since', 'yesterday'],
      ['--field', 'spec.replicas'],
      ['--output', 'yaml'],
      ['--since', '2026-11-22', '--until', '2026-11-21'],
      ['--top', '0'],
    ]) {
      const r = await cli(['audit', DIR, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error DG_USAGE: /);
    }
    const missing = await cli(['audit', path.join(DIR, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error DG_INPUT: cannot read records from/);
  });

  it('runs as the bin: records on stdin, one HTML file on stdout', async () => {
    const child = spawn(process.execPath, [path.join(REPO, 'dist/cli.js'), 'audit', '--output', 'html'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.end(readFileSync(A, 'utf8') + readFileSync(B, 'utf8'));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, Buffer.concat(err).toString()).toBe(0);
    const html = Buffer.concat(out).toString('utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('default-src &#39;none&#39;');
    expect(html.match(/<g class="bar"/g)).toHaveLength(7);
  });
});
