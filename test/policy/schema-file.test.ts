/**
 * The published JSON Schemas come from the zod schemas (the single source), are committed, and
 * are what editors use: every sample validates against them, typos do not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { globSync } from 'tinyglobby';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../../src/policy/schema.js';
import { suiteJsonSchema } from '../../src/policytest/suite.js';
import { fixturePath, REPO } from '../support/fixtures.js';

const POLICY_SCHEMA = path.join(REPO, 'schema/driftpolicy.schema.json');
const SUITE_SCHEMA = path.join(REPO, 'schema/driftguard-test.schema.json');
const samplePolicies = globSync(['policies/*.yaml', 'policies/library/*.yaml'], { cwd: REPO, absolute: true }).sort();
const suites = globSync('policies/**/driftguard-test.yaml', { cwd: REPO, absolute: true }).sort();

function docs(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
}

function validator(file: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  // RFC 3339 with a time and a zone, as zod's z.iso.datetime({ offset: true }) accepts.
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  });
  return ajv.compile(JSON.parse(readFileSync(file, 'utf8')));
}

describe('committed JSON Schemas', () => {
  it('schema/driftpolicy.schema.json is what `driftguard policy schema` prints (run `npm run schema` when this fails)', () => {
    expect(readFileSync(POLICY_SCHEMA, 'utf8')).toBe(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  });

  it('schema/driftguard-test.schema.json is what `driftguard policy schema --suite` prints', () => {
    expect(readFileSync(SUITE_SCHEMA, 'utf8')).toBe(`${JSON.stringify(suiteJsonSchema(), null, 2)}\n`);
  });

  it('there are samples to check', () => {
    expect(samplePolicies.length).toBeGreaterThanOrEqual(10);
    expect(suites.length).toBeGreaterThanOrEqual(11);
  });

  it('every sample starts with a yaml-language-server line that points at the schema', () => {
    for (const [files, schema] of [
      [samplePolicies, POLICY_SCHEMA],
      [suites, SUITE_SCHEMA],
    ] as const) {
      for (const file of files) {
        const first = readFileSync(file, 'utf8').split('\n')[0]!;
        const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
        expect(m, `${file}: first line`).not.toBeNull();
        expect(path.resolve(path.dirname(file), m![1]!), file).toBe(schema);
      }
    }
  });

  it('editors accept every sample policy and suite', () => {
    const policy = validator(POLICY_SCHEMA);
    for (const file of samplePolicies) {
      for (const doc of docs(file)) expect(policy(doc) ? [] : policy.errors, file).toEqual([]);
    }
    const suite = validator(SUITE_SCHEMA);
    for (const file of suites) {
      for (const doc of docs(file)) expect(suite(doc) ? [] : suite.errors, file).toEqual([]);
    }
  });

  it('editors flag the typos the loader rejects', () => {
    const policy = validator(POLICY_SCHEMA);
    const [typo] = docs(fixturePath('policies', 'broken', 'typo.yaml'));
    expect(policy(typo)).toBe(false);
    expect(policy.errors!.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'exeptions')).toBe(true);
    const schemaErrors = docs(fixturePath('lint', 'broken', 'schema.yaml'));
    for (const doc of schemaErrors) expect(policy(doc)).toBe(false);
    policy(schemaErrors[0]);
    const where = policy.errors!.map((e) => `${e.instancePath} ${e.keyword}`);
    expect(where).toEqual(
      expect.arrayContaining(['/spec/mode enum', '/spec/breakGlass/0/expires format', '/spec/exceptions/0/paths/0 pattern']),
    );
    const suite = validator(SUITE_SCHEMA);
    const [invalid] = docs(fixturePath('policytest', 'invalid', 'driftguard-test.yaml'));
    expect(suite(invalid)).toBe(false);
    expect(suite.errors!.some((e) => e.params && (e.params as { additionalProperty?: string }).additionalProperty === 'reslt')).toBe(true);
  });
});
