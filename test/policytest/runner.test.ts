/**
 * `driftguard policy test` over deliberately broken suites: wrong expectations show expected vs
 * actual, invalid suite files are located, unusable cases are errors that do not stop the others.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

const suite = (name: string) => `test/fixtures/policytest/${name}`;

describe('a suite with wrong expectations', () => {
  it('exits 1 and shows, for the failing case, what was expected, what happened and why', async () => {
    const r = await cli(['policy', 'test', suite('failing')], { cwd: REPO });
    expect(r.code).toBe(1);
    const out = r.stdout;
    expect(out).toMatch(/PASS {3}right expectation +denied \(argocd-prod-guard fail\)/);
    expect(out).toContain('FAIL   expects allowed but a person edits prod');
    expect(out).toContain('at test/fixtures/policytest/failing/driftguard-test.yaml:16:5');
    expect(out).toContain('expected: allowed by argocd-prod-guard');
    expect(out).toContain('actual:   denied (argocd-prod-guard fail)');
    expect(out).toContain('message:  driftguard: policy argocd-prod-guard: oidc:jane@example.com may not change Deployment prod-shop/web');
    for (const line of [
      '- result: expected allowed, got denied',
      '- policy argocd-prod-guard: expected it to allow, its result was fail (1 change(s) by an actor the policy does not allow)',
      '- policies.staging-warn-only: expected warn, got skip (namespace prod-shop not in staging)',
      '- messageContains: "Change Git instead, please" not in the message',
      '- warningContains: no warning contains "drift" (0 warning(s))',
      '- records: expected 0, got 1',
    ]) {
      expect(out).toContain(line);
    }
    // A failing case always explains every policy's result.
    expect(out).toMatch(/staging-warn-only +skip +namespace prod-shop not in staging/);
    expect(out).toContain('1 suite(s), 2 case(s): 1 passed, 1 failed, 0 error(s)');
  });

  it('--explain shows why each policy applied or was skipped for passing cases too', async () => {
    const plain = await cli(['policy', 'test', 'policies/library/tests/staging-warn'], { cwd: REPO });
    expect(plain.stdout).not.toContain('namespace prod-shop not in staging');
    const r = await cli(['policy', 'test', 'policies/library/tests/staging-warn', '--explain'], { cwd: REPO });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/staging-warn-only +skip +namespace prod-shop not in staging/);
    expect(r.stdout).toMatch(/staging-warn-only +pass +actor allowed by preset argocd/);
    expect(r.stdout).toMatch(/staging-warn-only +warn +1 change\(s\) by an actor the policy does not allow\n +replace \/spec\/replicas/);
  });

  it('JSON output carries expected, actual and the per-policy results', async () => {
    const r = await cli(['policy', 'test', suite('failing'), '-o', 'json'], { cwd: REPO });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ suites: 1, cases: 2, passed: 1, failed: 1, errors: 0, invalidSuites: 0 });
    const failed = out.suites[0].cases[1];
    expect(failed).toMatchObject({ name: 'expects allowed but a person edits prod', status: 'failed', line: 16, column: 5 });
    expect(failed.expected).toMatchObject({ result: 'allowed', policy: 'argocd-prod-guard', from: 'suite' });
    expect(failed.actual).toMatchObject({ result: 'denied', records: 1, warnings: [] });
    expect(failed.actual.policies.map((p: any) => [p.policy, p.status])).toEqual([
      ['argocd-prod-guard', 'fail'],
      ['staging-warn-only', 'skip'],
    ]);
    expect(failed.failures).toHaveLength(6);
  });

  it('JUnit XML: one testsuite per file, a failure element per failing case, text escaped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-junit-'));
    const file = path.join(dir, 'report.xml');
    const r = await cli(['policy', 'test', suite('failing'), suite('case-errors'), '--junit', file], { cwd: REPO });
    expect(r.code).toBe(2);
    const xml = readFileSync(file, 'utf8');
    expect(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="driftguard policy test" tests="7" failures="1" errors="4"'),
    ).toBe(true);
    expect(xml).toMatch(
      /<testsuite name="failing" file="test\/fixtures\/policytest\/failing\/driftguard-test.yaml" tests="2" failures="1" errors="0"/,
    );
    expect(xml).toMatch(/<testcase name="right expectation" classname="failing" [^>]*\/>/);
    expect(xml).toContain('<failure message="result: expected allowed, got denied" type="mismatch">');
    expect(xml).toContain('- messageContains: &quot;Change Git instead, please&quot; not in the message');
    expect(xml).toMatch(/<error message="cannot read object file missing.yaml: no such file or directory" type="DG_TEST_INVALID">/);
    // Balanced: every opened element is closed.
    for (const tag of ['testsuites', 'testsuite', 'testcase']) {
      const opened = [...xml.matchAll(new RegExp(`<${tag}[ >]`, 'g'))].length;
      const selfClosed = [...xml.matchAll(new RegExp(`<${tag} [^>]*/>`, 'g'))].length;
      expect(opened - selfClosed, tag).toBe([...xml.matchAll(new RegExp(`</${tag}>`, 'g'))].length);
    }
    const stdout = await cli(['policy', 'test', suite('failing'), '-o', 'junit'], { cwd: REPO });
    expect(stdout.stdout).toContain('<testsuite name="failing"');
  });
});

describe('suites and cases that cannot run', () => {
  it('an invalid suite file is reported at file:line:column with a fix, and exits 2', async () => {
    const r = await cli(['policy', 'test', suite('invalid')], { cwd: REPO });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('ERROR  the suite cannot run:');
    expect(r.stdout).toContain(
      'invalid/driftguard-test.yaml:9:12: error DG_TEST_INVALID: cases[0].request.via: must be one of kubectl-edit',
    );
    expect(r.stdout).toContain('hint: did you mean `kubectl-scale`?');
    expect(r.stdout).toContain(
      'invalid/driftguard-test.yaml:11:14: error DG_TEST_INVALID: cases[0].expect.reslt: unknown field `reslt`, did you mean `result`?',
    );
    expect(r.stdout).toContain(
      'invalid/driftguard-test.yaml:12:5: error DG_TEST_INVALID: cases[1]: a case needs exactly one of `review` (a file) or `request` (the short form)',
    );
    expect(r.stdout).toContain(
      'invalid/driftguard-test.yaml:16:39: error DG_TEST_INVALID: cases[2].expect.records: `records` must be a whole number, not a number (got 1.5)',
    );
    expect(r.stdout).toContain('1 suite(s) could not run');
  });

  it('each unusable case is an error; the rest of the suite still runs', async () => {
    const r = await cli(['policy', 'test', suite('case-errors'), '-o', 'json'], { cwd: REPO });
    expect(r.code).toBe(2);
    const cases = JSON.parse(r.stdout).suites[0].cases.map((c: any) => [c.name, c.status, c.error]);
    expect(cases).toEqual([
      ['missing object file', 'error', 'cannot read object file missing.yaml: no such file or directory'],
      ['a JSON Patch that does not apply', 'error', 'jsonPatch[0] (test /spec/replicas) cannot be applied: Test operation failed'],
      [
        'not an AdmissionReview',
        'error',
        'not-a-review.json is not an AdmissionReview: request.operation must be CREATE, UPDATE, DELETE or CONNECT',
      ],
      ['captures/*.json', 'error', 'no file matches captures/*.json'],
      ['still runs', 'passed', undefined],
    ]);
  });

  it('a suite whose policies do not load cannot run, and says why', async () => {
    const r = await cli(['policy', 'test', 'test/fixtures/policytest/broken-policies'], { cwd: REPO });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/typo\.yaml:10:3: error DG_POLICY_INVALID: spec\.exeptions: unknown field `exeptions`/);
  });

  it('no suite at all is a usage error', async () => {
    const r = await cli(['policy', 'test', 'test/fixtures/lint'], { cwd: REPO });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no driftguard-test.yaml under');
    expect((await cli(['policy', 'test', suite('failing'), '-o', 'html'], { cwd: REPO })).code).toBe(2);
    expect((await cli(['policy', 'test', suite('failing'), '--now', 'soon'], { cwd: REPO })).code).toBe(2);
  });
});

describe('reports', () => {
  it('never show a Secret value, not even in the changes of a denied edit', async () => {
    const r = await cli(['policy', 'test', 'policies/library/tests/protect-secrets-configmaps', '-o', 'json'], { cwd: REPO });
    expect(r.code).toBe(0);
    const denied = JSON.parse(r.stdout).suites[0].cases[0];
    expect(denied.actual.policies[0].violations).toEqual([{ path: '/data/password', op: 'replace', old: '[REDACTED]', new: '[REDACTED]' }]);
    for (const value of ['czNjcjN0LUh1bnRlcjItb2xk', 'aHVudGVyMg==', 'cm90YXRlZA==']) expect(r.stdout).not.toContain(value);
  });
});

describe('Scale requests and their parent', () => {
  it('the parent is found in the suite cluster or the short form, and `unresolved` decides when it is not', async () => {
    const r = await cli(['policy', 'test', suite('scale-parent'), '-o', 'json'], { cwd: REPO });
    const out = JSON.parse(r.stdout);
    expect(out.suites[0].cases.map((c: any) => [c.name, c.status, c.actual.result])).toEqual([
      ['the whole review, parent found in the cluster', 'passed', 'denied'],
      ['short form, parent known', 'passed', 'denied'],
      ['short form, parent unknown', 'passed', 'allowed'],
    ]);
    expect(out.suites[0].cases[2].actual.policies[0].reason).toContain('labels of the parent are unknown (Scale); unresolved: skip');
    expect(r.code).toBe(0);
  });
});
