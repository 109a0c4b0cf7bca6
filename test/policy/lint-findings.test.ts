/**
 * `driftguard policy lint` over real files, good and deliberately broken: every problem located at
 * file:line:column with the offending value and a likely fix; exit codes as docs/cli.md says.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { globCovers, patternProblem } from '../../src/policy/checks.js';
import { pointerFix, timeFix } from '../../src/policy/parse.js';
import { jsonPathProblem } from '../../src/match/jsonpath.js';
import { LINT_CODES } from '../../src/policy/lint-codes.js';
import { cli } from '../support/cli.js';
import { fixturePath, REPO } from '../support/fixtures.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const BROKEN = 'test/fixtures/lint/broken';

async function lintJson(...args: string[]): Promise<{ code: number; out: any }> {
  const r = await cli(['policy', 'lint', ...args, '-o', 'json'], { now: NOW });
  return { code: r.code, out: JSON.parse(r.stdout) };
}

function find(out: any, file: string, line: number, column: number): any {
  return out.diagnostics.find((d: any) => d.file.endsWith(file) && d.line === line && d.column === column);
}

describe('policy lint on broken files', () => {
  it('prints every problem, located, with the value and a fix (golden file)', async () => {
    const r = await cli(['policy', 'lint', BROKEN], { now: NOW });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(readFileSync(fixturePath('lint', 'broken.expected.txt'), 'utf8'));
  });

  it('schema problems: unknown fields with did-you-mean, enums, types, pointers, times, service accounts', async () => {
    const { out } = await lintJson(BROKEN);
    expect(find(out, 'schema.yaml', 35, 3)).toMatchObject({
      code: 'DG_POLICY_INVALID',
      path: 'spec.exeptions',
      message: 'unknown field `exeptions`, did you mean `exceptions`?',
    });
    expect(find(out, 'schema.yaml', 34, 9)).toMatchObject({
      path: 'spec.match.resources[0].kind',
      message: expect.stringContaining('did you mean `kinds`?'),
    });
    expect(find(out, 'schema.yaml', 7, 9)).toMatchObject({ value: 'enforc', hint: 'did you mean `enforce`?' });
    expect(find(out, 'schema.yaml', 14, 15)).toMatchObject({ value: 'argo', hint: 'did you mean `argocd`?' });
    expect(find(out, 'schema.yaml', 10, 20)).toMatchObject({ value: 'apps', hint: 'write it as a list: ["apps"]' });
    expect(find(out, 'schema.yaml', 19, 15)).toMatchObject({ value: 'spec.replicas', hint: 'did you mean `/spec/replicas`?' });
    expect(find(out, 'schema.yaml', 23, 16)).toMatchObject({
      value: '2026-12-01',
      hint: expect.stringContaining('"2026-12-01T00:00:00Z"'),
    });
    expect(find(out, 'schema.yaml', 15, 23)).toMatchObject({
      value: 'system:serviceaccount:ci:deployer',
      hint: expect.stringContaining('`ci/deployer`'),
    });
    expect(find(out, 'schema.yaml', 5, 9)).toMatchObject({ value: 'Prod_Guard', hint: 'try `prod-guard`' });
    // A misspelt actor key is reported once, as the typo, not also as an actor missing its kind.
    expect(out.diagnostics.filter((d: any) => d.file.endsWith('schema.yaml') && d.line === 38)).toEqual([
      expect.objectContaining({ column: 7, message: 'unknown field `prest`, did you mean `preset`?' }),
    ]);
  });

  it('a JSONPath jsonpath-plus cannot compile is reported even beside schema errors, with the closing bracket it lacks', async () => {
    const { out } = await lintJson(BROKEN);
    expect(find(out, 'schema.yaml', 20, 19)).toMatchObject({
      code: 'DG_POLICY_INVALID',
      message: expect.stringContaining('invalid JSONPath'),
      hint: "did you mean `$.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']`?",
    });
  });

  it('bad globs, kinds and groups are errors with the pattern that was meant', async () => {
    const { out } = await lintJson(BROKEN);
    const patterns = out.diagnostics.filter((d: any) => d.file.endsWith('patterns.yaml') && d.code === 'DGL010');
    expect(patterns.map((d: any) => [d.value, d.hint])).toEqual([
      ['apps/v1', 'did you mean "apps"?'],
      ['deployments', 'did you mean "Deployment"?'],
      ['core', 'did you mean ""?'],
      ['deployments/scale', 'did you mean "Deployment"?'],
      ['prod-.*', 'did you mean "prod-*"?'],
      ['Staging', 'did you mean "staging"?'],
      ['team-{a,b}', 'did you mean "team-a", "team-b"?'],
      ['Argo_CD/argocd-application-controller', 'did you mean "argo-cd/argocd-application-controller"?'],
    ]);
    expect(patterns.every((d: any) => d.severity === 'error')).toBe(true);
  });

  it('an unescaped annotation key in a pointer or a JSONPath is an error with the escaped form', async () => {
    const { out } = await lintJson(BROKEN);
    const keys = out.diagnostics.filter((d: any) => d.code === 'DGL011');
    expect(keys.map((d: any) => d.hint)).toEqual([
      'did you mean "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"?',
      `did you mean "$.metadata.labels['app.kubernetes.io/version']"?`,
    ]);
  });

  it('policies that can never match or never deny are warnings, not errors', async () => {
    const { out } = await lintJson(BROKEN);
    const never = out.diagnostics.filter((d: any) => d.file.endsWith('never.yaml') && d.code !== 'DG_POLICY_DUPLICATE');
    expect(never.every((d: any) => d.severity === 'warning')).toBe(true);
    expect(never.map((d: any) => `${d.line}:${d.column} ${d.code}`)).toEqual([
      '10:31 DGL003', // ConfigMap listed under apps
      '12:17 DGL003', // Namespace is cluster-scoped, policy lists namespaces
      '14:24 DGL002', // excludeNamespaces swallows namespaces
      '15:15 DGL005', // unresolved: skip without selector/managedBy
      '29:7 DGL002', // contradictory selector
      '45:7 DGL004', // allows system:authenticated
      '47:15 DGL004', // exempts the whole object
      '47:19 DGL005', // /status is never drift
      '50:16 DGL001', // expired break-glass
    ]);
  });

  it('a duplicate name points at both definitions', async () => {
    const { out } = await lintJson(BROKEN);
    const dup = out.diagnostics.find((d: any) => d.code === 'DG_POLICY_DUPLICATE');
    expect(dup).toMatchObject({ line: 22, column: 9, value: 'contradiction' });
    expect(dup.message).toContain('duplicate.yaml:4:9');
  });

  it('counts errors and warnings in JSON and exits 1', async () => {
    const { code, out } = await lintJson(BROKEN);
    expect(code).toBe(1);
    expect(out.errors).toBe(out.diagnostics.filter((d: any) => d.severity === 'error').length);
    expect(out.warnings).toBe(11);
    expect(out.files).toHaveLength(4);
  });

  it('github output turns each finding into a workflow annotation', async () => {
    const r = await cli(['policy', 'lint', BROKEN, '-o', 'github'], { now: NOW });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(lines).toHaveLength(35);
    expect(lines).toContain(
      '::error file=test/fixtures/lint/broken/schema.yaml,line=35,col=3,title=DG_POLICY_INVALID::error DG_POLICY_INVALID: spec.exeptions: unknown field `exeptions`, did you mean `exceptions`?%0A    hint: rename it to `exceptions` (fields allowed here%3A mode, match, unresolved, systemActors, allow, exceptions, breakGlass, message, severity, observe)'.replace(
        '(fields allowed here%3A',
        '(fields allowed here:',
      ),
    );
    expect(lines.filter((l) => l.startsWith('::warning '))).toHaveLength(11);
  });
});

describe('policy lint on good files', () => {
  it('the sample library and the served defaults are clean', async () => {
    const r = await cli(['policy', 'lint', path.join(REPO, 'policies'), path.join(REPO, 'policies/library')], { now: NOW });
    expect(r.stdout).toContain('10 file(s), 10 valid policies, 0 error(s), 0 warning(s)');
    expect(r.code).toBe(0);
  });

  it('warnings alone exit 0, or 1 with --strict', async () => {
    const late = new Date('2099-03-02T00:00:00Z'); // the library break-glass entry has expired
    const r = await cli(['policy', 'lint', path.join(REPO, 'policies/library/break-glass.yaml')], { now: late });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/break-glass\.yaml:25:16: warning DGL001: spec\.breakGlass\[0\]\.expires: .*\(got "2099-03-01T00:00:00Z"\)/);
    const strict = await cli(['policy', 'lint', '--strict', path.join(REPO, 'policies/library/break-glass.yaml')], { now: late });
    expect(strict.code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['policy', 'lint', BROKEN, '-o', 'xml'])).code).toBe(2);
    const missing = await cli(['policy', 'lint', 'no/such/dir']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('DG_POLICY_DIR: cannot read policies at no/such/dir: no such file or directory');
  });
});

describe('fix suggestions', () => {
  it.each([
    ['prod-?', 'namespace', '"prod-*"'],
    ['^prod-.+$', 'namespace', '"prod-*"'],
    ['prod-[0-9]', 'namespace', '"prod-*"'],
    ['prod_eu', 'namespace', '"prod-eu"'],
    ['apps/v1', 'apiGroup', '"apps"'],
    ['v1', 'apiGroup', '""'],
    ['statefulsets', 'kind', '"StatefulSet"'],
    ['configmap', 'kind', '"ConfigMap"'],
  ] as const)('%s (%s) -> %s', (text, kind, fix) => {
    expect(patternProblem(text, kind)?.fix).toBe(fix);
  });

  it.each([
    ['prod-*', 'namespace'],
    ['*', 'namespace'],
    ['', 'apiGroup'],
    ['networking.k8s.io', 'apiGroup'],
    ['*', 'kind'],
    ['Deploy*', 'kind'],
    ['MyCustomThing', 'kind'],
  ] as const)('%s is a fine %s pattern', (text, kind) => {
    expect(patternProblem(text, kind)).toBeUndefined();
  });

  it('glob coverage is only claimed when it holds', () => {
    expect(globCovers('prod-*', 'prod-eu')).toBe(true);
    expect(globCovers('prod-*', 'prod-us-*')).toBe(true);
    expect(globCovers('*-eu', 'prod-*-eu')).toBe(true);
    expect(globCovers('prod-*', 'pro*')).toBe(false);
    expect(globCovers('prod-eu', 'prod-*')).toBe(false);
    expect(globCovers('*a*', 'b*')).toBe(false);
  });

  it('pointers, times and JSONPaths', () => {
    expect(pointerFix('spec.template.spec')).toBe('/spec/template/spec');
    expect(pointerFix('/metadata/annotations/a~b')).toBe('/metadata/annotations/a~0b');
    expect(pointerFix('/spec/replicas')).toBeUndefined();
    expect(timeFix('2026-12-01')).toBe('2026-12-01T00:00:00Z');
    expect(timeFix('2026-12-01 18:30')).toBe('2026-12-01T18:30:00Z');
    expect(timeFix('2026-12-01T18:30:00+0200')).toBe('2026-12-01T18:30:00+02:00');
    expect(timeFix('next tuesday')).toBeUndefined();
    expect(jsonPathProblem('spec.replicas')).toEqual({ message: expect.stringContaining('starts with "$"'), fix: '$.spec.replicas' });
    expect(jsonPathProblem('/spec/replicas')?.message).toContain('JSON Pointer');
    expect(jsonPathProblem("$.a[?(@.b=='x'")).toEqual({ message: expect.stringContaining('")]" missing'), fix: "$.a[?(@.b=='x')]" });
    expect(jsonPathProblem("$.metadata.annotations['x']")).toBeUndefined();
  });
});

describe('policy lint on paths into keyed lists', () => {
  it('warns on an index into a keyed list and proposes the keyed form; accepts keyed paths', async () => {
    const { code, out } = await lintJson('test/fixtures/lint/keyed');
    expect(code).toBe(0); // warnings only
    expect(out.diagnostics.map((d: any) => `${d.line} ${d.code} ${d.value}`)).toEqual([
      '16 DGL014 /spec/template/spec/containers/0/image',
      '17 DGL014 /spec/template/spec/containers[name=api]/env/2/value',
      '19 DGL015 /spec/template/spec/containers[image=nginx]/args',
      '20 DGL015 /spec/template/spec/containers[name=api]/args[name=x]',
    ]);
    const [first, second, wrongKey, notKeyed] = out.diagnostics;
    expect(first.hint).toBe('name the item by key: "/spec/template/spec/containers[name=NAME]/image"');
    expect(first.message).toContain('identifies by name');
    expect(second.hint).toBe('name the item by key: "/spec/template/spec/containers[name=api]/env[name=NAME]/value"');
    expect(wrongKey.message).toContain('identified by name, not by image');
    expect(notKeyed.message).toContain('is not a list Deployment identifies by key');
  });

  it('rejects a selector that is not a keyed path, saying how one is written', async () => {
    const r = await cli(['policy', 'lint', 'test/fixtures/lint/keyed-invalid'], { now: NOW });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('keyed-invalid/invalid.yaml:13:11: error DG_POLICY_INVALID: spec.exceptions[0].paths[0]');
    expect(r.stdout).toContain('a list item by key is written /spec/template/spec/containers[name=api]/image');
  });
});

describe('lint codes', () => {
  it('docs/errors.md lists exactly the lint codes of the table, each with its severity', () => {
    const doc = readFileSync(path.join(REPO, 'docs/errors.md'), 'utf8');
    const documented = Object.fromEntries([...doc.matchAll(/^\| `(DGL\d{3})` \| ([a-z]+) \|/gm)].map((m) => [m[1]!, m[2]!]));
    const table = Object.fromEntries(Object.entries(LINT_CODES).map(([code, spec]) => [code, spec.severity]));
    expect(Object.keys(table).length).toBeGreaterThanOrEqual(8);
    expect(documented).toEqual(table);
  });
});
