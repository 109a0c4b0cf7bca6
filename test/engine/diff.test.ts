import { describe, expect, it } from 'vitest';
import { diff } from '../../src/engine/diff.js';
import { NEVER_DRIFT } from '../../src/k8s/never-drift.js';
import { edited, object } from '../support/fixtures.js';

describe('diff', () => {
  it('lists leaf changes with JSON Pointer paths in document order', () => {
    const r = diff({ a: 1, b: { c: [1, 2] }, d: 'x' }, { a: 2, b: { c: [1, 3, 4] }, e: { f: true } });
    expect(r.truncated).toBe(false);
    expect(r.changes).toEqual([
      { path: '/a', op: 'replace', old: 1, new: 2 },
      { path: '/b/c/1', op: 'replace', old: 2, new: 3 },
      { path: '/b/c/2', op: 'add', new: 4 },
      { path: '/d', op: 'remove', old: 'x' },
      { path: '/e/f', op: 'add', new: true },
    ]);
  });

  it('escapes "/" and "~" in keys (annotation names)', () => {
    const r = diff({ m: {} }, { m: { 'kubectl.kubernetes.io/restartedAt': 't', 'a~b': 1 } });
    expect(r.changes.map((c) => c.path)).toEqual(['/m/kubectl.kubernetes.io~1restartedAt', '/m/a~0b']);
  });

  it('expands an added map into its leaves, so an exception can name one annotation', () => {
    const r = diff({ metadata: {} }, { metadata: { annotations: { x: '1', y: '2' } } });
    expect(r.changes.map((c) => c.path)).toEqual(['/metadata/annotations/x', '/metadata/annotations/y']);
  });

  it('skips what is never drift on a real Deployment update', () => {
    const old = object('deployment-prod-web');
    const neu = edited(old, (o) => {
      o.metadata.generation = 8;
      o.metadata.managedFields[0].time = '2026-11-24T10:00:00Z';
      o.metadata.annotations['deployment.kubernetes.io/revision'] = '8';
      o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{}';
      o.status.observedGeneration = 8;
      o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:2';
    });
    const r = diff(old, neu, { ignore: NEVER_DRIFT });
    expect(r.changes).toEqual([
      {
        path: '/spec/template/spec/containers/0/image',
        op: 'replace',
        old: 'registry.example.com/shop/web:1.42.0',
        new: 'registry.example.com/shop/web:2',
      },
    ]);
  });

  it('survives nesting far deeper than the call stack', () => {
    let a: unknown = 1;
    let b: unknown = 2;
    for (let i = 0; i < 100_000; i++) {
      a = { n: a };
      b = { n: b };
    }
    const r = diff(a, b);
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]!.path.split('/n').length - 1).toBe(100_000);
  });

  it('is bounded: a huge array stops at the budget and says so', () => {
    const started = Date.now();
    const r = diff([], new Array(2_000_000).fill(0), { maxChanges: 1000 });
    expect(r.truncated).toBe(true);
    expect(r.changes.length).toBeLessThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('treats keys named __proto__ and constructor as plain data', () => {
    const a = JSON.parse('{"__proto__":{"x":1},"constructor":1}');
    const b = JSON.parse('{"__proto__":{"x":2}}');
    const r = diff(a, b);
    expect(r.changes).toEqual([
      { path: '/__proto__/x', op: 'replace', old: 1, new: 2 },
      { path: '/constructor', op: 'remove', old: 1 },
    ]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
