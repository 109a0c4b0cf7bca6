/**
 * The audit summary: counts by decision over time, top actors, objects, fields and policies, and
 * every break-glass use with its reason. Everything the table, JSON, CSV and HTML views show comes
 * from here, so they cannot disagree. Pure: entries in, data out.
 */
import { fieldLabel } from '../engine/field-list.js';
import type { ViolationDecision } from '../records/record.js';
import type { AuditEntry } from './entry.js';

type DecisionCounts = Record<ViolationDecision, number>;

/** `5m`, `15m` and `hour` only when asked for (`fine`): a short day in the HTML report. */
type BucketSize = '5m' | '15m' | 'hour' | 'day' | 'week' | 'month';

export interface TimeBucket {
  /** First day of the bucket, YYYY-MM-DD (UTC; weeks start on Monday); YYYY-MM-DDTHH:MMZ below a day. */
  start: string;
  counts: DecisionCounts;
  total: number;
}

export interface Ranked {
  key: string;
  count: number;
  counts: DecisionCounts;
}

interface RankedActor extends Ranked {
  actorClass: string;
}

interface RankedObject extends Ranked {
  kind: string;
  namespace?: string;
  name: string;
  owner: string;
}

export interface BreakGlassUse {
  time: string;
  username: string;
  policy: string;
  reason: string;
  expires: string;
  object: string;
  fields: string[];
}

export interface AuditSummary {
  total: number;
  first?: string;
  last?: string;
  counts: DecisionCounts;
  bucket: BucketSize;
  timeline: TimeBucket[];
  actors: RankedActor[];
  objects: RankedObject[];
  fields: Ranked[];
  policies: Ranked[];
  breakGlass: BreakGlassUse[];
  /** How many actors, objects, fields, policies and break-glass uses did not make the lists. */
  more: { actors: number; objects: number; fields: number; policies: number; breakGlass: number };
}

export interface SummaryOptions {
  /** Length of the top lists. */
  top: number;
  /** Stretch the timeline over this window (the --since/--until asked for), so quiet days show as zero. */
  from?: Date;
  to?: Date;
  /** At most this many break-glass uses, the latest kept. */
  maxBreakGlass?: number;
  /** Buckets below a day (5 or 15 minutes, hours) for a short span, as a chart wants them. */
  fine?: boolean;
}

const SUB_DAY: Readonly<Record<string, number>> = { '5m': 300_000, '15m': 900_000, hour: 3_600_000 };

/** Buckets per timeline at most; a longer span moves to weeks, then months. */
const MAX_BUCKETS = 120;
const DAY_MS = 86_400_000;

function zeroCounts(): DecisionCounts {
  return { denied: 0, warned: 0, audited: 0, 'break-glass': 0 };
}

function dayStart(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

function bucketStart(t: number, size: BucketSize): number {
  const sub = SUB_DAY[size];
  if (sub !== undefined) return Math.floor(t / sub) * sub;
  const d = dayStart(t);
  if (size === 'day') return d;
  const date = new Date(d);
  if (size === 'week') return d - ((date.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

function nextBucket(start: number, size: BucketSize): number {
  const sub = SUB_DAY[size];
  if (sub !== undefined) return start + sub;
  if (size === 'day') return start + DAY_MS;
  if (size === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function chooseBucket(from: number, to: number, fine: boolean): BucketSize {
  if (fine) {
    const span = to - from;
    if (span <= 3 * 3_600_000) return '5m';
    if (span <= 12 * 3_600_000) return '15m';
    if (span <= 3 * DAY_MS) return 'hour';
  }
  const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
  if (days <= MAX_BUCKETS) return 'day';
  if (days <= MAX_BUCKETS * 7) return 'week';
  return 'month';
}

class Tally<T extends Ranked> {
  readonly map = new Map<string, T>();
  constructor(
    private readonly make: (key: string, e: AuditEntry) => T,
    /** Fill in what the first entry did not know (an owner, from a later record of the same object). */
    private readonly merge?: (r: T, e: AuditEntry) => void,
  ) {}

  add(key: string, e: AuditEntry): void {
    let r = this.map.get(key);
    if (r === undefined) {
      r = this.make(key, e);
      this.map.set(key, r);
    } else {
      this.merge?.(r, e);
    }
    r.count++;
    r.counts[e.decision]++;
  }

  /** Most first; ties by denials, then by key, so the order is stable. */
  top(n: number): { list: T[]; more: number } {
    const all = [...this.map.values()].sort(
      (a, b) => b.count - a.count || b.counts.denied - a.counts.denied || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
    return { list: all.slice(0, n), more: Math.max(0, all.length - n) };
  }
}

export function summarize(entries: readonly AuditEntry[], opts: SummaryOptions): AuditSummary {
  const counts = zeroCounts();
  const actors = new Tally<RankedActor>((key, e) => ({ key, count: 0, counts: zeroCounts(), actorClass: e.actorClass }));
  const objects = new Tally<RankedObject>(
    (key, e) => ({
      key,
      count: 0,
      counts: zeroCounts(),
      kind: e.kind,
      name: e.name,
      owner: e.ownerText,
      ...(e.namespace === undefined ? {} : { namespace: e.namespace }),
    }),
    (r, e) => {
      // A kubectl scale recorded before driftguard knew the parent carries no owner; another record does.
      if (r.owner === '' && e.ownerText !== '') r.owner = e.ownerText;
    },
  );
  const fields = new Tally<Ranked>((key) => ({ key, count: 0, counts: zeroCounts() }));
  const policies = new Tally<Ranked>((key) => ({ key, count: 0, counts: zeroCounts() }));
  const breakGlass: BreakGlassUse[] = [];
  let first = Infinity;
  let last = -Infinity;

  for (const e of entries) {
    counts[e.decision]++;
    first = Math.min(first, e.t);
    last = Math.max(last, e.t);
    actors.add(e.username, e);
    objects.add(e.object, e);
    policies.add(e.policy, e);
    for (const f of new Set(e.fields)) fields.add(fieldLabel(f), e);
    if (e.decision === 'break-glass') {
      breakGlass.push({
        time: e.time,
        username: e.username,
        policy: e.policy,
        reason: e.breakGlass?.reason ?? '',
        expires: e.breakGlass?.expires ?? '',
        object: e.object,
        fields: e.fields.map(fieldLabel),
      });
    }
  }

  // The timeline spans the window asked for, or the records' own span.
  const from = Math.min(opts.from?.getTime() ?? Infinity, first);
  const to = Math.max(opts.to === undefined ? -Infinity : opts.to.getTime() - 1, last);
  const timeline: TimeBucket[] = [];
  let bucket: BucketSize = 'day';
  if (Number.isFinite(from) && Number.isFinite(to) && to >= from) {
    bucket = chooseBucket(from, to, opts.fine === true);
    const index = new Map<number, TimeBucket>();
    const label = (s: number) =>
      SUB_DAY[bucket] === undefined ? new Date(s).toISOString().slice(0, 10) : `${new Date(s).toISOString().slice(0, 16)}Z`;
    for (let s = bucketStart(from, bucket); s <= to; s = nextBucket(s, bucket)) {
      const b: TimeBucket = { start: label(s), counts: zeroCounts(), total: 0 };
      index.set(s, b);
      timeline.push(b);
    }
    for (const e of entries) {
      const b = index.get(bucketStart(e.t, bucket));
      if (b === undefined) continue;
      b.counts[e.decision]++;
      b.total++;
    }
  }

  const maxBg = opts.maxBreakGlass ?? 500;
  const top = (t: Tally<Ranked>) => t.top(opts.top);
  const a = actors.top(opts.top);
  const o = objects.top(opts.top);
  const f = top(fields);
  const p = top(policies);
  const summary: AuditSummary = {
    total: entries.length,
    counts,
    bucket,
    timeline,
    actors: a.list,
    objects: o.list,
    fields: f.list,
    policies: p.list,
    breakGlass: breakGlass.slice(-maxBg),
    more: { actors: a.more, objects: o.more, fields: f.more, policies: p.more, breakGlass: Math.max(0, breakGlass.length - maxBg) },
  };
  if (Number.isFinite(first)) summary.first = new Date(first).toISOString();
  if (Number.isFinite(last)) summary.last = new Date(last).toISOString();
  return summary;
}
