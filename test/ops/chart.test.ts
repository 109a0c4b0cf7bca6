/**
 * What charts/driftguard keeps in step with the rest of the repository without helm: its copies
 * of the kustomize base's policies and alert rules, the webhook rules its values default to, the
 * schema's defaults against values.yaml, the values table in its README, and the stand-in image
 * base's Node.js against the Dockerfile's. helm itself runs in test/e2e/chart.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS } from '../../src/logger.js';
import { valuesTable, withTable } from '../../scripts/chart-values-doc.mjs';
import { REPO } from '../support/fixtures.js';

const CHART = path.join(REPO, 'charts/driftguard');
const read = (...p: string[]) => readFileSync(path.join(...p), 'utf8');
const values = parse(read(CHART, 'values.yaml')) as Record<string, any>;
const schema = JSON.parse(read(CHART, 'values.schema.json')) as Record<string, any>;

describe('charts/driftguard', () => {
  it('ships the policies of manifests/base/policies byte for byte (the ConfigMap matches the base\u2019s)', () => {
    const base = path.join(REPO, 'manifests/base/policies');
    const files = readdirSync(base).sort();
    expect(
      readdirSync(path.join(CHART, 'policies')).sort(),
      'sync with: cp manifests/base/policies/*.yaml charts/driftguard/policies/',
    ).toEqual(files);
    for (const f of files) expect(read(CHART, 'policies', f), f).toBe(read(base, f));
  });

  it('ships manifests/monitoring/prometheusrule.yaml byte for byte', () => {
    expect(read(CHART, 'files/prometheusrule.yaml')).toBe(read(REPO, 'manifests/monitoring/prometheusrule.yaml'));
  });

  it('defaults the webhook rules and matchConditions to the base\u2019s (the sample policies\u2019)', () => {
    const hooks = parseAllDocuments(read(REPO, 'manifests/base/webhooks.yaml'))
      .map((d) => d.toJS() as Record<string, any> | null)
      .filter((o) => o !== null);
    // The validating webhook and the entry observer; the observer is sent creates and updates only.
    expect(hooks.map((h) => h.metadata.name)).toEqual(['driftguard', '0-driftguard-observe-entry']);
    const [validating, entry] = hooks;
    expect(validating!.webhooks[0].rules).toEqual(values.webhook.rules);
    expect(entry!.webhooks[0].rules).toEqual(
      (values.webhook.rules as Record<string, any>[]).map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'] })),
    );
    for (const h of hooks) expect(h.webhooks[0].matchConditions, h.metadata.name).toEqual(values.webhook.matchConditions);
  });

  it('has a schema whose defaults are values.yaml, that refuses unknown keys and bad values', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(schema);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    // Every key of values.yaml is in the schema, with values.yaml's value as its default.
    const walk = (v: Record<string, any>, s: Record<string, any>, at: string): void => {
      for (const [k, val] of Object.entries(v)) {
        const p = s.properties?.[k];
        expect(p, `${at}${k}`).toBeDefined();
        if (p.type === 'object' && p.properties !== undefined) walk(val, p, `${at}${k}.`);
        else expect(p.default, `${at}${k}`).toEqual(val);
      }
    };
    walk(values, schema, '');
    for (const bad of [
      { ...values, replicaCont: 3 },
      { ...values, certs: { ...values.certs, mod: 'provided' } },
      { ...values, webhook: { ...values.webhook, failurePolicy: 'Fial' } },
      { ...values, policies: { 'no-extension': 'x' } },
      { ...values, notify: { webhooks: ['ftp://x'], slack: [] } },
    ])
      expect(validate(bad), JSON.stringify(bad).slice(0, 80)).toBe(false);
    expect(schema.properties.logLevel.enum).toEqual([...LOG_LEVELS]);
  });

  it('has the values table in its README that the schema gives (node scripts/chart-values-doc.mjs)', () => {
    const readme = read(CHART, 'README.md');
    expect(withTable(readme, valuesTable(schema)), 'regenerate with: node scripts/chart-values-doc.mjs').toBe(readme);
    for (const key of ['replicaCount', 'certs.mode', 'manageWebhooks', 'extraArgs', 'metrics.prometheusRule.enabled'])
      expect(readme).toContain(`| \`${key}\` |`);
  });
});

describe('the stand-in image base (scripts/image-base.env)', () => {
  it('ships the Node.js major of the Dockerfile\u2019s image, an even (LTS) line', () => {
    const env = Object.fromEntries(
      read(REPO, 'scripts/image-base.env')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split('=') as [string, string]),
    );
    const image = /^ARG NODE_IMAGE=node:(\d+)-slim$/m.exec(read(REPO, 'Dockerfile'));
    expect(image).not.toBeNull();
    expect(env.NODE_VERSION).toMatch(new RegExp(`^${image![1]}\\.\\d+\\.\\d+$`));
    expect(Number(image![1]) % 2).toBe(0);
    expect(env.NPM_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
