/**
 * The diff pairs the items of lists Kubernetes identifies by key (the generated table, through
 * ListKeyIndex) and stays bounded exactly as before; keyed paths parse and print one way.
 */
import { describe, expect, it } from 'vitest';
import { diff } from '../../src/engine/diff.js';
import { itemSelector, KeyedPathError, normalizeKeyedPath, parseKeyedPath } from '../../src/match/keyed-path.js';
import { builtinListKeys, compileKindKeys } from '../../src/k8s/list-keys.js';

const DEPLOY = builtinListKeys().forKind('apps', 'v1', 'Deployment')!;
const C = '/spec/template/spec/containers';
const pod = (containers: unknown[]) => ({ spec: { template: { spec: { containers } } } });
const app = (env: unknown[] = [{ name: 'A', value: '1' }]) => ({ name: 'api', image: 'api:1', env });

describe('keyed lists in the diff', () => {
  it('an item inserted first is one addition; the others keep their keys and are unchanged', () => {
    const r = diff(pod([app()]), pod([{ name: 'proxy', image: 'p:1' }, app()]), { keys: DEPLOY });
    expect(r).toEqual({
      truncated: false,
      changes: [
        { path: `${C}/0/name`, keyed: `${C}[name=proxy]/name`, op: 'add', new: 'proxy' },
        { path: `${C}/0/image`, keyed: `${C}[name=proxy]/image`, op: 'add', new: 'p:1' },
      ],
    });
    // By index, as before keys: every field of the moved container looks replaced.
    expect(diff(pod([app()]), pod([{ name: 'proxy', image: 'p:1' }, app()])).changes.length).toBeGreaterThan(4);
  });

  it('a reordered list is no change; a change in a moved item is at its new index and its key', () => {
    const a = pod([app(), { name: 'b', image: 'b:1' }]);
    expect(diff(a, pod([{ name: 'b', image: 'b:1' }, app()]), { keys: DEPLOY }).changes).toEqual([]);
    const r = diff(a, pod([{ name: 'b', image: 'b:2' }, app()]), { keys: DEPLOY });
    expect(r.changes).toEqual([{ path: `${C}/0/image`, keyed: `${C}[name=b]/image`, op: 'replace', old: 'b:1', new: 'b:2' }]);
  });

  it('nested keyed lists and multi-field keys, in name order, values quoted where needed', () => {
    const before = pod([
      { name: 'api', ports: [{ containerPort: 80, protocol: 'TCP' }], volumeMounts: [{ mountPath: '/data', name: 'd' }] },
    ]);
    const after = pod([
      {
        name: 'api',
        ports: [
          { containerPort: 80, protocol: 'UDP' },
          { containerPort: 80, protocol: 'TCP' },
        ],
        volumeMounts: [{ mountPath: '/data', name: 'e' }],
      },
    ]);
    expect(diff(before, after, { keys: DEPLOY }).changes.map((c) => `${c.op} ${c.keyed}`)).toEqual([
      `add ${C}[name=api]/ports[containerPort=80,protocol=UDP]/containerPort`,
      `add ${C}[name=api]/ports[containerPort=80,protocol=UDP]/protocol`,
      `replace ${C}[name=api]/volumeMounts[mountPath="/data"]/name`,
    ]);
  });

  it('a removed item is reported at its old index; CREATE leaves carry keys too', () => {
    const r = diff(pod([{ name: 'x' }, app()]), pod([app()]), { keys: DEPLOY });
    expect(r.changes).toEqual([{ path: `${C}/0/name`, keyed: `${C}[name=x]/name`, op: 'remove', old: 'x' }]);
    const created = diff(undefined, pod([app([{ name: 'LOG', value: 'info' }])]), { keys: DEPLOY });
    expect(created.changes.map((c) => c.keyed ?? c.path)).toEqual([
      `${C}[name=api]/name`,
      `${C}[name=api]/image`,
      `${C}[name=api]/env[name=LOG]/name`,
      `${C}[name=api]/env[name=LOG]/value`,
    ]);
  });

  it('a keyed list with a duplicate or missing key is compared by index', () => {
    const dup = (v: string) =>
      pod([
        app([
          { name: 'A', value: v },
          { name: 'A', value: 'x' },
        ]),
      ]);
    expect(diff(dup('1'), dup('2'), { keys: DEPLOY }).changes).toEqual([
      { path: `${C}/0/env/0/value`, keyed: `${C}[name=api]/env/0/value`, op: 'replace', old: '1', new: '2' },
    ]);
    const long = 'x'.repeat(2_000);
    expect(diff(pod([{ name: long, image: 'a' }]), pod([{ name: long, image: 'b' }]), { keys: DEPLOY }).changes).toEqual([
      { path: `${C}/0/image`, op: 'replace', old: 'a', new: 'b' },
    ]);
    const noKey = diff(pod([{ image: 'a' }]), pod([{ image: 'b' }]), { keys: DEPLOY });
    expect(noKey.changes).toEqual([{ path: `${C}/0/image`, op: 'replace', old: 'a', new: 'b' }]);
  });

  it('stays bounded: maxChanges and maxNodes cut a keyed list and say so', () => {
    const many = (n: number, v: string) => pod(Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: v })));
    const cut = diff(many(5_000, 'a'), many(5_000, 'b'), { keys: DEPLOY, maxChanges: 100 });
    expect(cut.truncated).toBe(true);
    expect(cut.changes).toHaveLength(100);
    const nodes = diff(many(5_000, 'a'), many(5_000, 'b'), { keys: DEPLOY, maxNodes: 1_000 });
    expect(nodes.truncated).toBe(true);
    expect(nodes.changes.length).toBeLessThan(1_000);
    // Too large for the budget left to key: compared by index, still cut and said so.
    const small = diff(many(600, 'a'), many(600, 'b'), { keys: DEPLOY, maxNodes: 500 });
    expect(small.truncated).toBe(true);
  });

  it('custom tables compile the same way; * matches any item or map value', () => {
    const tree = compileKindKeys({ '/spec/routes': ['path', 'host'], '/spec/groups/*/rules': ['alert'] })!;
    expect(tree.fields?.get('spec')?.fields?.get('routes')?.keys).toEqual(['host', 'path']);
    const r = diff(
      { spec: { groups: { g: { rules: [{ alert: 'A', expr: '1' }] } } } },
      {
        spec: {
          groups: {
            g: {
              rules: [
                { alert: 'B', expr: '0' },
                { alert: 'A', expr: '2' },
              ],
            },
          },
        },
      },
      { keys: tree },
    );
    expect(r.changes.map((c) => c.keyed)).toEqual([
      '/spec/groups/g/rules[alert=B]/alert',
      '/spec/groups/g/rules[alert=B]/expr',
      '/spec/groups/g/rules[alert=A]/expr',
    ]);
  });
});

describe('keyed paths', () => {
  it('write bare words and numbers, quote the rest', () => {
    expect(itemSelector({ name: 'api' }, ['name'])).toBe('[name=api]');
    expect(itemSelector({ containerPort: 8080, protocol: 'TCP' }, ['containerPort', 'protocol'])).toBe('[containerPort=8080,protocol=TCP]');
    expect(itemSelector({ mountPath: '/var/run' }, ['mountPath'])).toBe('[mountPath="/var/run"]');
    expect(itemSelector({ name: '8080' }, ['name'])).toBe('[name="8080"]');
    expect(itemSelector({ name: 'true' }, ['name'])).toBe('[name="true"]');
    expect(itemSelector({ name: { x: 1 } }, ['name'])).toBeUndefined();
    expect(itemSelector('api', ['name'])).toBeUndefined();
  });

  it('parse to one canonical form', () => {
    expect(normalizeKeyedPath('/a/ports[protocol=TCP,containerPort=80]/x')).toBe('/a/ports[containerPort=80,protocol=TCP]/x');
    expect(normalizeKeyedPath('/a/c[name="api"]/image')).toBe('/a/c[name=api]/image');
    expect(normalizeKeyedPath('/a/m[mountPath="/data"]')).toBe('/a/m[mountPath="/data"]');
    expect(normalizeKeyedPath('/metadata/annotations/a~1b')).toBe('/metadata/annotations/a~1b');
    expect(normalizeKeyedPath('/spec/replicas')).toBe('/spec/replicas');
    expect(parseKeyedPath('/c[name=a]/env[name=B]/value')).toEqual([
      { token: 'c' },
      { keys: [['name', 'a']] },
      { token: 'env' },
      { keys: [['name', 'B']] },
      { token: 'value' },
    ]);
  });

  it('refuse what is not a keyed path, saying where', () => {
    for (const bad of ['spec.replicas', '/c[name=a b]', '/c[name]', '/c[name="x]', '/[name=a]', '/c[name=a]x', '/c[1name=a]']) {
      expect(() => parseKeyedPath(bad), bad).toThrow(KeyedPathError);
    }
    expect(() => parseKeyedPath('/c[name=a b]')).toThrow(/quoted/);
  });
});
