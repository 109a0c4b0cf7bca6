/**
 * The authoring guide (policies/README.md) is what a newcomer writes from: its examples must load,
 * lint clean and behave as the guide says, and every field of the schema must be explained.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/parse.js';
import { policyJsonSchema } from '../../src/policy/schema.js';
import { parseSuiteText } from '../../src/policytest/suite.js';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

const guide = readFileSync(path.join(REPO, 'policies/README.md'), 'utf8');
const yamlBlocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

function fields(node: any, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries<any>(node?.properties ?? {})) {
    out.push(`${prefix}${k}`);
    const child = v.type === 'array' ? v.items : v;
    out.push(...fields(child, `${prefix}${k}.`));
  }
  return out;
}

describe('policies/README.md', () => {
  it('explains every field of the DriftPolicy schema', () => {
    const leaves = fields(policyJsonSchema()).map((f) => f.split('.').at(-1)!);
    // Named in code, alone (`mode`), as a key (`mode:`) or at the end of a path (`spec.mode`).
    const missing = [...new Set(leaves)].filter((name) => !new RegExp(`\`([\\w.\\[\\]]*\\.)?${name}(:[^\`]*)?\``).test(guide));
    expect(missing).toEqual([]);
  });

  it('its first policy loads and lints clean, and behaves as the guide describes', async () => {
    const first = yamlBlocks.find((b) => b.includes('kind: DriftPolicy\n'))!;
    expect(parsePolicyText(first, 'guide.yaml').diagnostics).toEqual([]);
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-guide-'));
    mkdirSync(path.join(dir, 'policies'));
    writeFileSync(path.join(dir, 'policies', 'prod-deployments.yaml'), first);
    const lint = await cli(['policy', 'lint', path.join(dir, 'policies')]);
    expect(lint.stdout).toContain('1 file(s), 1 valid policy, 0 error(s), 0 warning(s)');

    // The guide's suite example, with its object file, against the guide's policy.
    const suiteText = yamlBlocks.find((b) => b.includes('kind: DriftPolicyTest') && b.includes('request:'))!;
    const suiteDir = path.join(dir, 'policies', 'tests', 'prod-deployments');
    mkdirSync(path.join(suiteDir, 'objects'), { recursive: true });
    writeFileSync(
      path.join(suiteDir, 'objects', 'web.yaml'),
      readFileSync(path.join(REPO, 'policies/library/tests/objects/deployment-argocd.yaml')),
    );
    writeFileSync(path.join(suiteDir, 'driftguard-test.yaml'), suiteText.replace(/\n {2}- name: a review captured[\s\S]*$/, '\n'));
    const run = await cli(['policy', 'test', path.join(dir, 'policies', 'tests'), '-o', 'json']);
    const out = JSON.parse(run.stdout);
    expect(out.suites[0].diagnostics).toEqual([]);
    expect(out.suites[0].cases.map((c: any) => [c.name, c.status])).toEqual([
      ["a person's kubectl edit of the image is denied", 'passed'],
      ['the HPA may scale', 'passed'],
    ]);
  });

  it('every suite example is a valid suite file', () => {
    const suites = yamlBlocks.filter((b) => b.includes('kind: DriftPolicyTest'));
    expect(suites.length).toBe(2);
    for (const s of suites) {
      const r = parseSuiteText(s, 'guide.yaml');
      expect(r.ok ? [] : r.diagnostics).toEqual([]);
    }
  });

  it('links only to files that exist', () => {
    const links = [...guide.matchAll(/\]\(((?:\.\.\/|library\/)[^)#]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(8);
    for (const link of links) expect(() => readFileSync(path.join(REPO, 'policies', link)), link).not.toThrow();
  });
});
