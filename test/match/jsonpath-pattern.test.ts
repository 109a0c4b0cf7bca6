/**
 * A JSONPath of fixed names and `*` is judged from a change's path alone (no walk of the objects):
 * it must exempt exactly the changes that evaluating it with jsonpath-plus on both objects does.
 */
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/engine/diff.js';
import { compileJsonPath, matchesPattern, selectPointers } from '../../src/match/jsonpath.js';
import { isAtOrBelow, parsePointer } from '../../src/match/pointer.js';
import { edited, object } from '../support/fixtures.js';

const before = object('deployment-prod-web');
const after = edited(before, (o) => {
  const [web] = o.spec.template.spec.containers;
  web.image = 'registry.example.com/shop/web:9.9.9';
  web.resources = { limits: { cpu: '2', memory: '1Gi' } };
  web.env = [...(web.env ?? []), { name: 'FEATURE', value: 'on' }];
  o.spec.template.spec.containers.push({ name: 'mesh-proxy', image: 'proxy:1', resources: { requests: { cpu: '10m' } } });
  o.metadata.labels = { ...o.metadata.labels, team: 'web' };
  o.spec.replicas = 7;
});
const changes = diff(before, after).changes;

const EXPRESSIONS = [
  '$.spec.template.spec.containers[*].resources',
  '$.spec.template.spec.containers[*].env[*].value',
  '$.spec.template.spec.containers.*.image',
  '$.metadata.labels.*',
  "$['spec'].*",
  '$.*.replicas',
  '$.spec.template.spec.containers[*].resources.limits.cpu',
];

describe('wildcard JSONPaths', () => {
  it('compile to patterns, and fixed paths still to pointers', () => {
    expect(compileJsonPath('$.spec.template.spec.containers[*].env[*].value')).toEqual({
      expression: '$.spec.template.spec.containers[*].env[*].value',
      pattern: ['spec', 'template', 'spec', 'containers', '*', 'env', '*', 'value'],
    });
    expect(compileJsonPath("$['spec'].*").pattern).toEqual(['spec', '*']);
    // Every wildcard expression here is a pattern (no pointer), one token per step.
    for (const e of EXPRESSIONS) expect(compileJsonPath(e), e).toEqual({ expression: e, pattern: expect.arrayContaining(['*']) });
    expect(compileJsonPath("$.metadata.annotations['a/b']")).toEqual({
      expression: "$.metadata.annotations['a/b']",
      pointer: '/metadata/annotations/a~1b',
    });
    expect(compileJsonPath('$..image').pattern).toBeUndefined();
    expect(compileJsonPath('$.spec.containers[?(@.name=="web")]').pattern).toBeUndefined();
    expect(compileJsonPath('$.spec.containers[0:2]').pattern).toBeUndefined();
  });

  it.each(EXPRESSIONS)('%s exempts exactly what jsonpath-plus selects in either object', (expression) => {
    const { pattern } = compileJsonPath(expression);
    const selected = [...selectPointers(expression, before), ...selectPointers(expression, after)];
    const byPattern = changes.filter((c) => matchesPattern(parsePointer(c.path), pattern!)).map((c) => c.path);
    const bySelection = changes.filter((c) => selected.some((p) => isAtOrBelow(c.path, p))).map((c) => c.path);
    expect(byPattern).toEqual(bySelection);
  });

  it('the comparison has something to tell apart: some changes are exempt, some are not', () => {
    const { pattern } = compileJsonPath('$.spec.template.spec.containers[*].resources');
    const exempt = changes.filter((c) => matchesPattern(parsePointer(c.path), pattern!)).map((c) => c.path);
    expect(exempt).toContain('/spec/template/spec/containers/0/resources/limits/cpu');
    expect(exempt).toContain('/spec/template/spec/containers/1/resources/requests/cpu');
    expect(exempt).not.toContain('/spec/template/spec/containers/0/image');
    expect(changes.length).toBeGreaterThan(exempt.length);
  });
});
