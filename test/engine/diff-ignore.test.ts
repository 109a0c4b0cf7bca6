/**
 * The diff's ignore list is walked as a tree of keys (hashing every path string was the
 * engine's hottest work, docs/performance.md). These pin that it still ignores exactly what the pointers name.
 */
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/engine/diff.js';
import { NEVER_DRIFT } from '../../src/k8s/never-drift.js';

const paths = (r: ReturnType<typeof diff>) => r.changes.map((c) => c.path);

describe('diff ignore pointers', () => {
  it('ignores below a container that is added or removed whole', () => {
    const added = diff(
      {},
      { metadata: { managedFields: [{ manager: 'kubectl' }], labels: { a: '1' } }, status: { replicas: 1 } },
      { ignore: NEVER_DRIFT },
    );
    expect(paths(added)).toEqual(['/metadata/labels/a']);
    const removed = diff(
      { metadata: { resourceVersion: '7', annotations: { 'deployment.kubernetes.io/revision': '3', x: 'y' } } },
      {},
      { ignore: NEVER_DRIFT },
    );
    expect(paths(removed)).toEqual(['/metadata/annotations/x']);
  });

  it('matches escaped pointer tokens against raw keys ("/" as ~1, "~" as ~0)', () => {
    const ignore = new Set(['/m/a~1b', '/m/c~0d']);
    const r = diff({ m: { 'a/b': 1, 'c~d': 1, 'a~1b': 1 } }, { m: { 'a/b': 2, 'c~d': 2, 'a~1b': 2 } }, { ignore });
    expect(paths(r)).toEqual(['/m/a~01b']);
  });

  it('ignores array items by index, and only those', () => {
    const r = diff({ items: [1, 2, 3] }, { items: [9, 8, 7, 6] }, { ignore: new Set(['/items/1', '/items/3']) });
    expect(paths(r)).toEqual(['/items/0', '/items/2']);
  });

  it('ignores a whole subtree and nothing beside it, at any depth', () => {
    const ignore = new Set(['/a/b/c']);
    const r = diff({ a: { b: { c: { d: 1 }, e: 1 } } }, { a: { b: { c: { d: 2, f: 3 }, e: 2 } } }, { ignore });
    expect(paths(r)).toEqual(['/a/b/e']);
  });

  it('still reports changes to keys that merely resemble ignored ones', () => {
    const r = diff(
      { metadata: { generation: 1, generations: 1 } },
      { metadata: { generation: 2, generations: 2 } },
      { ignore: NEVER_DRIFT },
    );
    expect(paths(r)).toEqual(['/metadata/generations']);
  });
});

describe('diff budget', () => {
  it('says the result is cut when array items past the budget were never compared', () => {
    const a = { items: new Array(30).fill(1) };
    const b = { items: [...new Array(29).fill(1), 2] };
    const r = diff(a, b, { maxNodes: 20 });
    expect(r.changes).toEqual([]);
    expect(r.truncated).toBe(true);
    // Within the budget the same change is found.
    expect(diff(a, b, { maxNodes: 100 })).toEqual({ changes: [{ path: '/items/29', op: 'replace', old: 1, new: 2 }], truncated: false });
  });

  it('says the result is cut when an added or removed tail is longer than the budget', () => {
    expect(diff({ l: [] }, { l: new Array(50).fill(0) }, { maxNodes: 10 }).truncated).toBe(true);
    expect(diff({ l: new Array(50).fill(0) }, { l: [] }, { maxNodes: 10 }).truncated).toBe(true);
    expect(diff({ l: [0] }, { l: [0, 1, 2] }, { maxNodes: 10 })).toEqual({
      changes: [
        { path: '/l/1', op: 'add', new: 1 },
        { path: '/l/2', op: 'add', new: 2 },
      ],
      truncated: false,
    });
  });

  it('reports a longer array tail as added, not the items both arrays share', () => {
    expect(diff([1, 2], [1, 2, 3]).changes).toEqual([{ path: '/2', op: 'add', new: 3 }]);
  });
});
