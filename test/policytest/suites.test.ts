/**
 * `npm test` runs every policy test suite in the repo (the sample library and the served
 * defaults) through the real command, so a policy change that breaks a sample fails CI.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { globSync } from 'tinyglobby';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

const POLICIES = path.join(REPO, 'policies');

describe('every policy test suite in policies/', () => {
  it('passes', async () => {
    const r = await cli(['policy', 'test', POLICIES, '-o', 'json'], { cwd: REPO });
    const out = JSON.parse(r.stdout);
    const failing = out.suites.flatMap((s: any) => [
      ...s.diagnostics.map((d: any) => `${s.file}: ${d.message}`),
      ...s.cases.filter((c: any) => c.status !== 'passed').map((c: any) => `${s.file}: ${c.name}: ${c.error ?? c.failures.join('; ')}`),
    ]);
    expect(failing).toEqual([]);
    expect(r.code).toBe(0);
    expect(out.summary.suites).toBe(globSync('**/driftguard-test.yaml', { cwd: POLICIES }).length);
    expect(out.summary.cases).toBeGreaterThanOrEqual(60);
  });

  it('every sample policy, in the library and among the served defaults, has a suite that loads it', () => {
    const tested = new Set<string>();
    for (const suite of globSync('**/driftguard-test.yaml', { cwd: POLICIES, absolute: true })) {
      const doc = parse(readFileSync(suite, 'utf8')) as { policies: string[] };
      for (const p of doc.policies) tested.add(path.resolve(path.dirname(suite), p));
    }
    const samples = globSync(['*.yaml', 'library/*.yaml'], { cwd: POLICIES, absolute: true });
    expect(samples.length).toBe(10);
    expect(samples.filter((s) => !tested.has(s))).toEqual([]);
  });

  it('the table names each suite and ends with the totals', async () => {
    const r = await cli(['policy', 'test', 'policies/library'], { cwd: REPO });
    expect(r.code).toBe(0);
    for (const name of [
      'argocd-prod-guard',
      'flux-guard',
      'hpa-replicas',
      'oncall-rollout-restart',
      'break-glass-oncall',
      'staging-warn-only',
      'protect-secrets-configmaps',
      'combined',
    ]) {
      expect(r.stdout).toContain(`(${name})`);
    }
    expect(r.stdout).toMatch(/\n8 suite\(s\), \d+ case\(s\): \d+ passed, 0 failed, 0 error\(s\) in \d+ ms\n$/);
  });
});
