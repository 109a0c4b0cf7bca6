/**
 * What a replica keeps of a report another replica wrote. Each replica holds only the records it
 * wrote itself, so the first time a new leader writes an object's report it reads the report in the
 * cluster and carries over what its own records cannot say:
 *   - the results of policies it has no records of;
 *   - the findings the old leader listed (`fields`, and per field `set by USER at TIME; in drift
 *     since TIME`) on fields this replica has seen no write to since: they are in drift still, so a
 *     result this replica computes as pass stays warn (or fail) with them. A field this replica saw
 *     written after the old finding is decided by its own records (a GitOps revert ends it);
 *   - the denied attempts the old leader listed (a denial changes nothing in the object, so no later
 *     record would bring it back): the union of both lists, newest first, none twice.
 * A carried break-glass finding whose expiry has passed is fail, as compute.ts says it. Pure.
 */
import type { ObjectReport, ReportLimits, ReportResult } from './compute.js';

const DENIED = /^denied\.\d+$/;

function deniedList(p: Readonly<Record<string, string>>): string[] {
  return Object.keys(p)
    .filter((k) => DENIED.test(k))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
    .map((k) => p[k]!);
}

/** `denied.N` values start with the attempt's RFC 3339 time. */
function timeOf(entry: string): number {
  const t = Date.parse(entry.slice(0, entry.indexOf(' ')));
  return Number.isNaN(t) ? 0 : t;
}

function mergeDenied(mine: ReportResult, theirs: Readonly<Record<string, string>>, keep: number): Record<string, string> {
  const own = deniedList(mine.properties);
  const old = deniedList(theirs);
  if (old.length === 0) return mine.properties;
  const union = [...new Set([...own, ...old])].sort((a, b) => timeOf(b) - timeOf(a));
  const ownTotal = Number(mine.properties.deniedAttempts ?? own.length);
  const oldTotal = Number(theirs.deniedAttempts ?? old.length);
  const shared = own.filter((e) => old.includes(e)).length;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(mine.properties)) if (!DENIED.test(k) && k !== 'deniedAttempts') out[k] = v;
  out.deniedAttempts = String(ownTotal + oldTotal - shared);
  union.slice(0, keep).forEach((e, i) => (out[`denied.${i + 1}`] = e));
  return out;
}

function isResult(r: unknown): r is ReportResult {
  const x = r as Partial<ReportResult> | null;
  return typeof x?.policy === 'string' && (x.result === 'pass' || x.result === 'fail' || x.result === 'warn');
}

const FINDING = /^set by (.+) at (\S+); in drift since (\S+)$/;
const GLASS = ['breakGlassBy', 'breakGlassReason', 'breakGlassExpires'] as const;

interface Carried {
  field: string;
  /** The property's own text. */
  text: string;
  by: string;
  since: string;
}

/**
 * The old result's findings on fields this replica has seen no write to since they were set, and
 * how many findings it listed in all.
 */
function carriedFindings(theirs: ReportResult, written: ReadonlyMap<string, string>): { carried: Carried[]; listed: number } {
  const out: Carried[] = [];
  let listed = 0;
  if (theirs.result === 'pass') return { carried: out, listed };
  const p = theirs.properties ?? {};
  for (const field of (p.fields ?? '').split(', ')) {
    const text = p[field];
    const m = text === undefined ? null : FINDING.exec(text);
    if (m === null) continue;
    listed++;
    const mine = written.get(field);
    if (mine !== undefined && Date.parse(mine) >= Date.parse(m[2]!)) continue;
    out.push({ field, text: text!, by: m[1]!, since: m[3]! });
  }
  return { carried: out, listed };
}

const RANK = { pass: 0, warn: 1, fail: 2 } as const;

/** `base` (this replica's result) with the old result's findings that still stand. */
function withCarried(base: ReportResult, theirs: ReportResult, carried: readonly Carried[], now: number): ReportResult {
  const old = theirs.properties ?? {};
  const expires = old.breakGlassExpires === undefined ? Number.NaN : Date.parse(old.breakGlassExpires);
  const oldStatus = theirs.result === 'warn' && expires <= now ? 'fail' : theirs.result;
  const props: Record<string, string> = { ...base.properties };
  const fields = (props.fields ?? '').split(', ').filter((f) => f !== '');
  for (const c of carried) {
    if (fields.includes(c.field)) continue;
    fields.push(c.field);
    props[c.field] = c.text;
  }
  props.fields = fields.join(', ');
  if (props.breakGlassBy === undefined) for (const k of GLASS) if (old[k] !== undefined) props[k] = old[k];
  const result = RANK[oldStatus] > RANK[base.result] ? oldStatus : base.result;
  // This replica's own finding speaks last; with none, what the old leader said stands.
  let message = base.result === 'pass' ? theirs.message : base.message;
  if (result === 'fail' && theirs.result === 'warn' && base.result !== 'fail')
    message = `in drift from Git with no break-glass entry in effect (it expired at ${old.breakGlassExpires}): ${carried
      .map((c) => `${c.field} (set by ${c.by}, in drift since ${c.since})`)
      .join(', ')}`;
  const t = (x: ReportResult) => x.timestamp.seconds * 1e9 + x.timestamp.nanos;
  const timestamp = t(theirs) > t(base) ? theirs.timestamp : base.timestamp;
  return { ...base, result, message, timestamp, properties: props };
}

/** The old result as this replica would say it with no finding of its own: its denied attempts only. */
function deniedOnly(theirs: ReportResult): ReportResult {
  const p = theirs.properties ?? {};
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (k === 'deniedAttempts' || DENIED.test(k)) properties[k] = v;
  const message = theirs.result === 'pass' ? theirs.message : 'Git and the live object agree';
  return { ...theirs, result: 'pass', message, properties };
}

export interface AdoptContext {
  /** The policies loaded now: results of others are not carried. */
  loaded: ReadonlySet<string>;
  limits: ReportLimits;
  /** The last write this replica saw of each field of the object (compute.ts: ObjectReport.written). */
  written: ReadonlyMap<string, string>;
  now: Date;
}

/** `report` with what `existing` (the report as read from the cluster) holds that it lacks. */
export function adoptReport(report: ObjectReport, existing: unknown, ctx: AdoptContext): ObjectReport {
  const old = ((existing as { results?: unknown } | null)?.results ?? []) as unknown[];
  const previous = new Map(old.filter(isResult).map((r) => [r.policy, r]));
  if (previous.size === 0) return report;
  const now = ctx.now.getTime();
  let nextChangeAt = report.nextChangeAt;
  const carry = (mine: ReportResult | undefined, theirs: ReportResult): ReportResult => {
    const { carried, listed } = carriedFindings(theirs, ctx.written);
    // A result this replica has none of, and whose findings it cannot read, is kept as written.
    const verbatim = theirs.result === 'pass' || listed === 0;
    const base = mine ?? (verbatim ? { ...theirs, properties: { ...(theirs.properties ?? {}) } } : deniedOnly(theirs));
    if (carried.length === 0) return base;
    const expires = Date.parse(theirs.properties?.breakGlassExpires ?? '');
    if (theirs.result === 'warn' && expires > now) nextChangeAt = nextChangeAt === undefined ? expires : Math.min(nextChangeAt, expires);
    return withCarried(base, theirs, carried, now);
  };
  const results = report.results.map((r) => {
    const theirs = previous.get(r.policy);
    if (theirs === undefined) return r;
    const merged = carry(r, theirs);
    return { ...merged, properties: mergeDenied(merged, theirs.properties ?? {}, ctx.limits.deniedAttempts) };
  });
  const have = new Set(results.map((r) => r.policy));
  for (const [policy, r] of previous) {
    if (have.has(policy) || !ctx.loaded.has(policy)) continue;
    results.push(carry(undefined, r));
  }
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  results.sort((a, b) => order[a.result] - order[b.result] || (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  const kept = results.slice(0, ctx.limits.maxResults);
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of kept) summary[r.result]++;
  const out: ObjectReport = { ...report, results: kept, summary, trimmed: report.trimmed + (results.length - kept.length) };
  if (nextChangeAt !== undefined) out.nextChangeAt = nextChangeAt;
  return out;
}
