/**
 * The docs against the code, as test/errors.test.ts does for the error table: what the docs list is
 * read from the code, so that a metric, a layer, a module or an e2e file added anywhere fails here
 * until the docs name it, and a name the code no longer has fails here until the docs drop it.
 * - docs/monitoring.md's metric table lists exactly the metrics driftguard registers, and no doc
 *   names a driftguard_* metric that does not exist;
 * - docs/development.md's layer list is .dependency-cruiser.cjs's layers, in order, each naming the
 *   modules of src/ it holds; its scenario list names every file of test/e2e/;
 * - a `src/...` path cited in a doc, or a file of src/ cited in a comment, exists, and an identifier
 *   cited with its file (`Name` in `src/file.ts`) is in that file; a relative link resolves.
 */
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DriftguardMetrics } from '../src/metrics/metrics.js';
import { ReportMetrics } from '../src/metrics/report-metrics.js';
import { registerStoreMetrics } from '../src/metrics/store-metrics.js';
import { REPO } from './support/fixtures.js';

const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');
const DOCS = ['README.md', ...readdirSync(path.join(REPO, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));

/** The lines of a doc's section (from its heading to the next heading of the same or a higher level). */
function sectionOf(doc: string, heading: string): string[] {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l === heading);
  if (start === -1) throw new Error(`no "${heading}" heading`);
  const level = heading.indexOf(' ');
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** `driftguard_events_{sent,dropped}_total` → both names. */
function expandBraces(name: string): string[] {
  const m = /\{([^}]+)\}/.exec(name);
  if (m === null) return [name];
  return m[1]!.split(',').flatMap((alt) => expandBraces(name.replace(m[0], alt)));
}

describe('metrics in the docs', () => {
  const registry = new Registry();
  new DriftguardMetrics({ registry, clock: () => new Date(0) });
  new ReportMetrics(registry, () => 0);
  registerStoreMetrics(registry, { spoolBytes: () => 0, lagSeconds: () => 0, spoolMaxBytes: 0 });
  const registered = registry
    .getMetricsAsArray()
    .map((m) => m.name)
    .filter((n) => n.startsWith('driftguard_'))
    .sort();

  it('docs/monitoring.md has one row per registered metric, and none other', () => {
    const rows = read('docs/monitoring.md')
      .split('\n')
      .filter((l) => l.startsWith('| `driftguard_'))
      .map((l) => l.split('|')[1]!);
    // A row may name a sibling by its suffix: `driftguard_events_sent_total` / `_dropped_total`.
    const documented = rows.flatMap((cell) => {
      const [first, ...more] = [...cell.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
      const stem = first!.slice(0, first!.lastIndexOf('_', first!.lastIndexOf('_') - 1));
      return [first!, ...more.map((s) => (s.startsWith('_') ? stem + s : s))];
    });
    expect(registered.length).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual(registered);
  });

  it('every driftguard_* metric a doc names is one driftguard registers', () => {
    const known = new Set(registered.flatMap((n) => [n, `${n}_bucket`, `${n}_count`, `${n}_sum`]));
    // The records store's tables (docs/store.md names them) share the prefix and are not metrics.
    for (const m of read('src/store/migrations.ts').matchAll(/\bdriftguard_[a-z_]*[a-z]/g)) known.add(m[0]);
    const unknown: string[] = [];
    for (const doc of DOCS)
      for (const m of read(doc).matchAll(/\bdriftguard_(?:[a-z_]|\{[a-z,]+\}(?=_))*[a-z]/g))
        // A `{a,b}` inside a name spells two metrics; one after it, the labels.
        for (const name of expandBraces(m[0])) if (!known.has(name)) unknown.push(`${doc}: ${name}`);
    expect(unknown).toEqual([]);
  });
});

describe('the layer list', () => {
  const config = createRequire(import.meta.url)(path.join(REPO, '.dependency-cruiser.cjs')) as {
    forbidden: Array<{ name: string; from: { path?: string; pathNot?: string[] } }>;
  };
  /** The layers lowest first: the `in-a-layer` rule lists their paths in order, the upward rules their names. */
  const paths = config.forbidden.find((r) => r.name === 'in-a-layer')!.from.pathNot!;
  const upward = config.forbidden.map((r) => /^(.+)-below-(.+)$/.exec(r.name)).filter((m): m is RegExpExecArray => m !== null);
  const lowest = upward[0]![1]!;
  const names = [lowest, ...upward.filter((m) => m[1] === lowest).map((m) => m[2]!)];
  /** The top-level modules of src/ (a file, or a folder as `name/`) each layer holds. */
  const modules = readdirSync(path.join(REPO, 'src')).map((e) => (statSync(path.join(REPO, 'src', e)).isDirectory() ? `${e}/` : e));
  const held = paths.map((p) => modules.filter((m) => new RegExp(p).test(m.endsWith('/') ? `src/${m}x.ts` : `src/${m}`)).sort());

  it('.dependency-cruiser.cjs gives every layer a name and a path', () => {
    expect(names).toHaveLength(paths.length);
    for (const [i, modulesOf] of held.entries()) expect(modulesOf.length, names[i]).toBeGreaterThan(0);
  });

  it('docs/development.md lists the layers in order, each with exactly the modules it holds', () => {
    const listed = sectionOf(read('docs/development.md'), '## Layers')
      .map((l) => /^\d+\. \*\*([\w-]+)\*\*: (.*?) — /.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ layer: m[1]!, modules: [...m[2]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!).sort() }));
    expect(listed).toEqual(names.map((layer, i) => ({ layer, modules: held[i] })));
  });
});

describe('the e2e scenario list', () => {
  it('docs/development.md names every file of test/e2e/, and only those', () => {
    const files = readdirSync(path.join(REPO, 'test/e2e'))
      .filter((f) => f.endsWith('.test.ts'))
      .sort();
    const listed = sectionOf(read('docs/development.md'), '### The scenarios')
      .map((l) => /^- `([\w-]+\.test\.ts)`: /.exec(l)?.[1])
      .filter((f): f is string => f !== undefined)
      .sort();
    expect(files.length).toBeGreaterThan(10);
    expect(listed).toEqual(files);
  });
});

describe('citations', () => {
  it('every src/ path a doc cites exists, with the identifier it names beside it', () => {
    const stale: string[] = [];
    for (const doc of DOCS) {
      const text = read(doc);
      for (const m of text.matchAll(/`(src\/[\w./-]+)`/g)) if (!existsSync(path.join(REPO, m[1]!))) stale.push(`${doc}: ${m[1]}`);
      const cited = [
        ...[...text.matchAll(/`(\w+)` in `(src\/[\w/.-]+\.ts)`/g)].map((m) => [m[1]!, m[2]!] as const),
        ...[...text.matchAll(/`(src\/[\w/.-]+\.ts)` \(`(\w+)`/g)].map((m) => [m[2]!, m[1]!] as const),
      ];
      for (const [name, file] of cited)
        if (!existsSync(path.join(REPO, file)) || !new RegExp(`\\b${name}\\b`).test(read(file))) stale.push(`${doc}: ${name} in ${file}`);
    }
    expect(stale).toEqual([]);
  });

  it('every relative link of a doc resolves', () => {
    const broken: string[] = [];
    for (const doc of DOCS)
      for (const m of read(doc).matchAll(/\]\(((?!https?:|#)[^)#\s]+)(#[^)]*)?\)/g))
        if (!existsSync(path.join(REPO, path.dirname(doc), m[1]!))) broken.push(`${doc}: ${m[1]}`);
    expect(broken).toEqual([]);
  });

  it('every file of src/ a comment in src/ cites exists', () => {
    const folders = readdirSync(path.join(REPO, 'src')).filter((e) => statSync(path.join(REPO, 'src', e)).isDirectory());
    const walk = (dir: string): string[] =>
      readdirSync(path.join(REPO, dir)).flatMap((e) =>
        statSync(path.join(REPO, dir, e)).isDirectory() ? walk(`${dir}/${e}`) : [`${dir}/${e}`],
      );
    const stale: string[] = [];
    for (const file of walk('src').filter((f) => f.endsWith('.ts'))) {
      // `engine/diff.ts` or `src/engine/diff.ts`: a folder of src/, then a file in it.
      for (const m of read(file).matchAll(/(?<![\w./-])(?:src\/)?([a-z-]+)\/([\w.-]+\.ts)\b/g)) {
        if (!folders.includes(m[1]!)) continue;
        if (!existsSync(path.join(REPO, 'src', m[1]!, m[2]!))) stale.push(`${file}: ${m[0]}`);
      }
    }
    expect(stale).toEqual([]);
  });
});
