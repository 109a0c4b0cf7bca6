/**
 * What a replica keeps of a report another replica wrote. Each replica holds only the records it
 * wrote itself, so the first time a new leader writes an object's report it reads the report in the
 * cluster and carries over what its own records cannot say: the results of policies it has no
 * records of, and the denied attempts the old leader listed (a denial changes nothing in the
 * object, so no later record would bring it back). A policy both know takes the new leader's
 * result and message; its denied attempts are the union of both lists, newest first, none twice.
 * Pure.
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

/** `report` with what `existing` (the report as read from the cluster) holds that it lacks. */
export function adoptReport(report: ObjectReport, existing: unknown, loaded: ReadonlySet<string>, limits: ReportLimits): ObjectReport {
  const old = ((existing as { results?: unknown } | null)?.results ?? []) as unknown[];
  const previous = new Map(old.filter(isResult).map((r) => [r.policy, r]));
  if (previous.size === 0) return report;
  const results = report.results.map((r) => {
    const theirs = previous.get(r.policy);
    return theirs === undefined ? r : { ...r, properties: mergeDenied(r, theirs.properties ?? {}, limits.deniedAttempts) };
  });
  const have = new Set(results.map((r) => r.policy));
  for (const [policy, r] of previous) {
    if (have.has(policy) || !loaded.has(policy)) continue;
    results.push({ ...r, properties: { ...(r.properties ?? {}) } });
  }
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  results.sort((a, b) => order[a.result] - order[b.result] || (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  const kept = results.slice(0, limits.maxResults);
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of kept) summary[r.result]++;
  return { ...report, results: kept, summary, trimmed: report.trimmed + (results.length - kept.length) };
}
