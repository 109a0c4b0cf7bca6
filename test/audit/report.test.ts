/**
 * The audit over the fixture records of two replicas (test/fixtures/records/audit, written by the
 * real handler; see generate.ts there). Expected numbers are counted from those files by hand.
 */
import { describe, expect, it } from 'vitest';
import { toEntries } from '../../src/audit/entry.js';
import { compileFilter } from '../../src/audit/filter.js';
import { csvCell } from '../../src/audit/render/csv.js';
import { printable } from '../../src/audit/render/text.js';
import { buildReport, readNote } from '../../src/audit/report.js';
import { summarize } from '../../src/audit/summary.js';
import { parseTimeArg } from '../../src/cli/time.js';
import { readRecords } from '../../src/records/read.js';
import { fixturePath } from '../support/fixtures.js';

const DIR = fixturePath('records', 'audit');
const read = () => readRecords([DIR]);
const NOW = new Date('2026-11-24T12:00:00Z');

describe('entries and summary', () => {
  it('reads both replicas, keeps violations, counts change records and malformed lines apart', async () => {
    const { records, stats } = await read();
    const { entries, stats: es } = toEntries(records);
    expect(stats.files).toHaveLength(2);
    expect(stats.malformed).toBe(2); // a cut line and a line of text
    expect(stats.foreign).toBe(1); // an operational log line
    expect(es).toEqual({ violations: 19, changes: 1, otherTypes: 0, invalid: 0, superseded: 0 });
    expect(entries.map((e) => e.t)).toEqual([...entries.map((e) => e.t)].sort((a, b) => a - b));
    expect(readNote(stats, es)).toMatch(
      /19 violations; 1 change records .*; 2 malformed lines skipped \(.*replica-a\.jsonl:4, .*replica-a\.jsonl:11\); 1 non-record lines skipped/,
    );
  });

  it('counts by decision and day, with the quiet window days as zero', async () => {
    const { entries } = toEntries((await read()).records);
    const s = summarize(entries, { top: 10, from: new Date('2026-11-16T00:00:00Z'), to: NOW });
    expect(s.counts).toEqual({ denied: 11, warned: 3, audited: 3, 'break-glass': 2 });
    expect(s.total).toBe(19);
    expect(s.bucket).toBe('day');
    expect(s.timeline.map((b) => [b.start, b.counts.denied, b.total])).toEqual([
      ['2026-11-16', 0, 0],
      ['2026-11-17', 1, 3],
      ['2026-11-18', 3, 3],
      ['2026-11-19', 1, 3],
      ['2026-11-20', 2, 2],
      ['2026-11-21', 2, 3],
      ['2026-11-22', 1, 2],
      ['2026-11-23', 1, 3],
      ['2026-11-24', 0, 0],
    ]);
  });

  it('ranks actors, objects (a Scale counted on its Deployment) and fields', async () => {
    const { entries } = toEntries((await read()).records);
    const s = summarize(entries, { top: 3 });
    expect(s.actors.map((a) => [a.key, a.count, a.counts.denied, a.actorClass])).toEqual([
      ['oidc:jane@example.com', 14, 8, 'person'],
      ['kubernetes-admin', 2, 2, 'person'],
      ['oidc:bob@example.com', 2, 0, 'person'],
    ]);
    expect(s.more.actors).toBe(1);
    expect(s.objects.map((o) => [o.key, o.count, o.owner])).toEqual([
      ['Deployment prod-shop/web', 10, 'Argo CD application shop'],
      ['Deployment staging/web', 6, 'Argo CD application shop-staging'],
      ['Deployment apps-team/api', 2, 'Flux Kustomization flux-system/apps'],
    ]);
    expect(s.fields[0]).toMatchObject({ key: '/spec/template/spec/containers/0/env/5/name', count: 7 });
    expect(s.fields.find((f) => f.key === '/spec/template/spec/containers/0/image')?.count).toBe(6);
  });

  it('lists every break-glass use with its reason', async () => {
    const { entries } = toEntries((await read()).records);
    const s = summarize(entries, { top: 10 });
    expect(s.breakGlass.map((b) => [b.time, b.username, b.reason, b.object])).toEqual([
      ['2026-11-21T02:11:09.000Z', 'oidc:bob@example.com', 'INC-4711 hotfix while Git is frozen', 'Deployment prod-shop/web'],
      ['2026-11-22T03:47:01.000Z', 'oidc:bob@example.com', 'INC-4711 hotfix while Git is frozen', 'Deployment prod-shop/web'],
    ]);
  });

  it('moves to weeks and months when a window is too long for days', () => {
    const e = (time: string) => ({ ...baseEntry, time, t: Date.parse(time), day: time.slice(0, 10) });
    const weeks = summarize([e('2026-01-01T00:00:00Z'), e('2026-06-30T00:00:00Z')], { top: 5 });
    expect(weeks.bucket).toBe('week');
    expect(weeks.timeline[0]!.start).toBe('2025-12-29'); // the Monday of that week
    expect(weeks.timeline.reduce((n, b) => n + b.total, 0)).toBe(2);
    const months = summarize([e('2020-01-15T00:00:00Z'), e('2026-06-30T00:00:00Z')], { top: 5 });
    expect(months.bucket).toBe('month');
    expect(months.timeline[0]!.start).toBe('2020-01-01');
    expect(months.timeline).toHaveLength(78);
  });
});

const baseEntry = {
  decision: 'denied' as const,
  mode: 'enforce',
  policy: 'p',
  reason: '',
  username: 'u',
  groups: [],
  actorClass: 'person',
  operation: 'UPDATE',
  group: 'apps',
  resource: 'deployments',
  kind: 'Deployment',
  name: 'x',
  object: 'Deployment x',
  fields: [],
  pointers: [],
  changesOmitted: 0,
  ownerText: '',
  uid: '',
  record: {} as never,
};

describe('filters', () => {
  const entries = async () => toEntries((await read()).records).entries;

  it('matches kind by kind or plural in any case, so a Scale counts as its Deployment', async () => {
    const all = await entries();
    expect(all.filter(compileFilter({ kinds: ['deployment'] }))).toHaveLength(18);
    expect(all.filter(compileFilter({ kinds: ['secrets'] }))).toHaveLength(1);
  });

  it('takes globs for users and namespaces, and ANDs different filters', async () => {
    const all = await entries();
    expect(all.filter(compileFilter({ users: ['oidc:*'] }))).toHaveLength(16);
    expect(all.filter(compileFilter({ users: ['oidc:*'], namespaces: ['prod-*'], decisions: ['denied'] }))).toHaveLength(6);
    expect(all.filter(compileFilter({ users: ['oidc:jane@example.com', 'kubernetes-admin'] }))).toHaveLength(16);
  });

  it('matches a field at or below a pointer, and groups of the actor', async () => {
    const all = await entries();
    expect(all.filter(compileFilter({ fields: ['/spec/replicas'] }))).toHaveLength(4);
    expect(all.filter(compileFilter({ fields: ['/spec/template/spec/containers'] }))).toHaveLength(13);
    expect(all.filter(compileFilter({ fields: ['/spec/rep'] }))).toHaveLength(0);
    expect(all.filter(compileFilter({ groups: ['oncall'] })).map((e) => e.decision)).toEqual(['break-glass', 'break-glass']);
  });
});

describe('views', () => {
  it('the list as CSV: one row per violation, cells quoted and formula-safe', async () => {
    const { records, stats } = await read();
    const r = buildReport(records, stats, { view: 'list', output: 'csv', filter: { decisions: ['break-glass'] }, top: 10, now: NOW });
    const lines = r.text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^time,decision,allowed,mode,policy,username,groups/);
    expect(lines[1]).toContain('2026-11-22T03:47:01.000Z,break-glass,true,enforce,argocd-prod,oidc:bob@example.com');
    expect(lines[1]).toContain('INC-4711 hotfix while Git is frozen');
    expect(csvCell('=HYPERLINK("http://x")')).toBe('"\'=HYPERLINK(""http://x"")"');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('-1')).toBe("'-1");
    expect(csvCell(3)).toBe('3');
  });

  it('the summary as a table names the top actor and the break-glass reason', async () => {
    const { records, stats } = await read();
    const r = buildReport(records, stats, { view: 'summary', output: 'table', filter: {}, top: 5, now: NOW });
    expect(r.text).toMatch(/^19 violations from 2026-11-17T09:12:04.000Z to 2026-11-23T11:18:52.000Z/);
    expect(r.text).toMatch(/oidc:jane@example\.com\s+person\s+14\s+8/);
    expect(r.text).toMatch(/BREAK-GLASS USE[\s\S]*INC-4711 hotfix while Git is frozen/);
    expect(r.text).toMatch(/2026-11-18\s+3\s+0\s+0\s+0\s+3/);
  });

  it('the list as JSON gives the records as written, newest first, and --limit cuts it', async () => {
    const { records, stats } = await read();
    const r = buildReport(records, stats, { view: 'list', output: 'json', filter: { kinds: ['Secret'] }, top: 10, now: NOW });
    const list = JSON.parse(r.text);
    expect(list).toHaveLength(1);
    expect(list[0].changes[0]).toEqual({ path: '/data/password', op: 'replace', old: '[REDACTED]', new: '[REDACTED]' });
    const limited = JSON.parse(buildReport(records, stats, { view: 'list', output: 'json', filter: {}, top: 10, limit: 2, now: NOW }).text);
    expect(limited.map((x: any) => x.time)).toEqual(['2026-11-23T11:18:52.000Z', '2026-11-23T11:18:52.000Z']);
  });

  it('escapes control characters before they reach a terminal', () => {
    expect(printable('jane\u001b[31mRED\u0007')).toBe('jane\\u001b[31mRED\\u0007');
  });
});

describe('time arguments', () => {
  it('reads durations before now, dates and RFC 3339 times, and refuses the rest', () => {
    expect(parseTimeArg('24h', NOW)?.toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(parseTimeArg('7d', NOW)?.toISOString()).toBe('2026-11-17T12:00:00.000Z');
    expect(parseTimeArg('2026-11-20', NOW)?.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(parseTimeArg('2026-11-20T10:00:00+02:00', NOW)?.toISOString()).toBe('2026-11-20T08:00:00.000Z');
    expect(parseTimeArg('yesterday', NOW)).toBeUndefined();
    expect(parseTimeArg('2026-13-45', NOW)).toBeUndefined();
  });
});
