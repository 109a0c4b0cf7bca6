/** A YAML mistake is reported once, where it is: an unclosed bracket at the bracket, not on the next line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

describe('policy lint: YAML syntax errors', () => {
  it('an unclosed flow sequence: one finding per bracket, at the bracket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-yaml-'));
    writeFileSync(
      path.join(dir, 'bad.yaml'),
      [
        'apiVersion: driftguard.io/v1alpha1',
        'kind: DriftPolicy',
        'metadata: {name: x}',
        'spec:',
        '  allow: [{preset: argocd}',
        '  mode: enforce',
        '',
      ].join('\n'),
    );
    const r = await cli(['policy', 'lint', dir]);
    expect(r.code).toBe(1);
    const findings = r.stdout.split('\n').filter((l) => l.includes('DG_POLICY_PARSE'));
    expect(findings).toEqual([expect.stringMatching(/bad\.yaml:5:10: error DG_POLICY_PARSE: this \[ is never closed with \]/)]);
  });
});

describe('audit --help', () => {
  it('shows no "(default: [])" on the repeatable flags', async () => {
    const r = await cli(['audit', '--help']);
    expect(r.stdout).toContain('--user <name>');
    expect(r.stdout).not.toContain('default: []');
  });

  it('repeatable flags still collect every value', async () => {
    const r = await cli(['audit', '-', '--user', 'a', '--user', 'b', '-o', 'json'], { stdin: '\n' });
    expect(JSON.parse(r.stdout).filters.users).toEqual(['a', 'b']);
  });
});
