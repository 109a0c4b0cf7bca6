/**
 * One rule for every command (docs/cli.md): 1 = what the command exists to find (denied, lint
 * errors, a failing case), 2 = a usage or input error. A missing or broken input is never a "denied".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { fixturePath, SAMPLE_POLICIES } from '../support/fixtures.js';

const REVIEW = fixturePath('reviews', 'kubectl-edit-prod.json');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'driftguard-exit-'));

function emptyDir(): string {
  return tmp();
}

function brokenPolicies(): string {
  const dir = tmp();
  writeFileSync(path.join(dir, 'bad.yaml'), 'apiVersion: driftguard.io/v1alpha1\nkind: DriftPolicy\nmetadata: {name: x}\nspec: {mode: [\n');
  return dir;
}

describe('exit codes: an input error is 2 in every command', () => {
  it('policy lint: a missing path, and a directory without policy files, are errors (2), not "0 files, 0 errors"', async () => {
    const missing = await cli(['policy', 'lint', '/no/such/policies']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error DG_POLICY_DIR: cannot read policies at /no/such/policies: no such file or directory');
    const empty = await cli(['policy', 'lint', emptyDir()]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/error DG_POLICY_DIR: no policy files \(\*\.yaml, \*\.yml\) in /);
    expect(empty.stdout).not.toContain('0 error(s)');
  });

  it('policy lint: errors in the files are what it finds (1)', async () => {
    expect((await cli(['policy', 'lint', brokenPolicies()])).code).toBe(1);
  });

  it('policy test: a missing path is 2', async () => {
    const r = await cli(['policy', 'test', '/no/such/suites']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file or directory');
  });

  it('evaluate: a missing, empty or broken policy directory is 2; a denial is 1', async () => {
    for (const dir of ['/no/such/policies', emptyDir(), brokenPolicies()]) {
      const r = await cli(['evaluate', REVIEW, '--policies', dir]);
      expect(r.code, dir).toBe(2);
      expect(r.stderr, dir).toMatch(/^error DG_POLICY_(DIR|PARSE|INVALID): /);
    }
    expect((await cli(['evaluate', REVIEW, '--policies', SAMPLE_POLICIES])).code).toBe(1);
  });

  it('explain, history and audit: a missing records file is 2', async () => {
    for (const argv of [
      ['explain', 'deploy/web', '-n', 'prod-shop', '/no/such/records.jsonl'],
      ['history', 'deploy/web', '-n', 'prod-shop', '/no/such/records.jsonl'],
      ['audit', '/no/such/records.jsonl'],
    ]) {
      const r = await cli(argv);
      expect(r.code, argv[0]).toBe(2);
      expect(r.stderr, argv[0]).toContain('error DG_INPUT: cannot read records from /no/such/records.jsonl: no such file or directory');
    }
  });

  it('serve: broken policies are 2', async () => {
    const r = await cli(['serve', '--port', '0', '--policies', brokenPolicies(), '--cert-dir', path.join(tmp(), 'certs')]);
    expect(r.code).toBe(2);
  });

  it('certs: no --out is a DG_USAGE error (2) and --help marks it required; a file in the way is said in words', async () => {
    const r = await cli(['certs']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error DG_USAGE: certs needs --out DIR, the directory to write into (for example --out manifests/certs)\n');
    const help = await cli(['certs', '--help']);
    expect(help.stdout).toMatch(/--out <dir>\s+\(required\)/);
    const dir = tmp();
    writeFileSync(path.join(dir, 'file'), '');
    const blocked = await cli(['certs', '--out', path.join(dir, 'file', 'certs')]);
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/^error DG_TLS: cannot write certificates to .*: a part of the path is a file, not a directory: /);
    expect(blocked.stderr).not.toMatch(/ENOTDIR|EEXIST/);
  });

  it('manifests: an unreadable --ca is 2', async () => {
    const r = await cli(['manifests', '--ca', '/no/such/ca.crt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read /no/such/ca.crt: no such file or directory');
  });
});
