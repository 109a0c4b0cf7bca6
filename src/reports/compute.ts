/**
 * One object's report, computed from its records: one result per DriftPolicy that has something to
 * say about the object, in the neutral shape render.ts turns into an OpenReports or wg-policy
 * object. Pure: records, the object, the policies' report settings and the time in; data out.
 *
 * The object's state is read the way `explain` reads it (ledger/timeline.ts, ledger/explain.ts): a
 * field is in drift when its last writer after the last GitOps write is not GitOps. A drifted field
 * is a finding of a policy when the write that set it carried that policy's violation record (a
 * warn- or audit-mode violation, or a break-glass change); a field changed without one (an
 * exception, an allowed actor, a field no policy covers) is no finding. Per policy:
 *   - fail: fields in drift under a break-glass entry that has expired (nothing excuses them now);
 *   - warn: fields in drift under an active break-glass entry, or by a warn/audit-mode violation;
 *   - pass: the policy reported on the object before, and Git and the live object agree again.
 * Denied attempts change nothing in the object: the last N of each policy are properties of its
 * result, which is pass when nothing is in drift.
 */
import { explainTimeline } from '../ledger/explain.js';
import { buildTimeline, type TimelineEntry, type WriteEntry } from '../ledger/timeline.js';
import type { ObjectQuery } from '../k8s/object-ref.js';
import type { PolicyMode } from '../policy/schema.js';
import type { ReadRecord } from '../records/read.js';
import { changeField } from '../engine/field-list.js';
import { parseRecord } from '../records/record.js';
import type { ViolationRecord } from '../records/record.js';

type ResultStatus = 'pass' | 'fail' | 'warn';
export type ReportSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** What a report says of each policy: its mode, and the severity its results carry (spec.severity). */
export interface ReportPolicy {
  mode: PolicyMode;
  severity?: ReportSeverity;
}

/** The object the report is about: its scope and the owner the garbage collector follows. */
export interface ReportScope {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for a cluster-scoped object (its report is then a ClusterReport). */
  namespace?: string;
  uid: string;
}

export interface ReportLimits {
  /** Results per report at most; the rest are dropped (fail first kept, then warn, then pass). */
  maxResults: number;
  /** Denied attempts listed per result (the newest). */
  deniedAttempts: number;
}

export const DEFAULT_REPORT_LIMITS: ReportLimits = { maxResults: 50, deniedAttempts: 5 };

export const REPORT_SOURCE = 'driftguard';
const REPORT_CATEGORY = 'GitOps drift';

export interface ReportResult {
  policy: string;
  result: ResultStatus;
  message: string;
  category: string;
  severity?: ReportSeverity;
  source: string;
  /** When the last event this result stands on happened. */
  timestamp: { seconds: number; nanos: number };
  /** String values only (both CRDs say so). */
  properties: Record<string, string>;
}

interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface ObjectReport {
  scope: ReportScope;
  results: ReportResult[];
  summary: ReportSummary;
  /** Results dropped to stay within maxResults. */
  trimmed: number;
  /** The next time the report changes by itself (a break-glass entry expires), ms since the epoch. */
  nextChangeAt?: number;
  /** When each field of the object was last written, by anyone, in the records given (adopt.ts reads it). */
  written: ReadonlyMap<string, string>;
}

export interface ComputeInput {
  /** The object's records (any others are ignored), in any order. */
  records: readonly ReadRecord[];
  /** Which object: resource, group, namespace ("" when cluster-scoped), name. */
  target: ObjectQuery;
  scope: ReportScope;
  /** The policies loaded now, by name; results of a policy no longer loaded are dropped. */
  policies: ReadonlyMap<string, ReportPolicy>;
  now: Date;
  limits?: ReportLimits;
  /**
   * What each validating call told the requester (its denial message and warnings), by the call's
   * uid: a result's message is the denial or warning as the requester saw it. Without it, the
   * record's own reason.
   */
  told?: ReadonlyMap<string, Told>;
}

export interface Told {
  message?: string;
  warnings: readonly string[];
}

/** The part of a denial or the warning that names `policy` (a denial joins its policies with "; "). */
function toldFor(told: ReadonlyMap<string, Told> | undefined, v: ViolationRecord): string {
  const t = told?.get(v.uid);
  if (t === undefined) return v.reason;
  if (v.decision === 'denied' && t.message !== undefined) {
    const parts = t.message.replace(/^driftguard: /, '').split(/; (?=policy )/);
    const mine = parts.find((p) => p.startsWith(`policy ${v.policy}: `));
    if (mine !== undefined) return `driftguard: ${mine}`;
  }
  const warning = t.warnings.find(
    (w) => w.startsWith(`driftguard: break-glass (${v.policy}) `) || w.startsWith(`driftguard: ${v.policy} (warn)`),
  );
  return warning ?? v.reason;
}

interface Finding {
  field: string;
  by: string;
  setAt: string;
  since: string;
  violation: ViolationRecord;
  /** What the requester was told. */
  said: string;
}

interface Denial {
  time: string;
  by: string;
  fields: string[];
  reason: string;
}

interface PolicyState {
  fail: Finding[];
  warn: Finding[];
  denied: Denial[];
  /** The latest time of anything this policy recorded on the object. */
  last: string;
}

function stateOf(states: Map<string, PolicyState>, policy: string): PolicyState {
  let s = states.get(policy);
  if (s === undefined) states.set(policy, (s = { fail: [], warn: [], denied: [], last: '' }));
  return s;
}

function later(a: string, b: string): string {
  return a === '' || Date.parse(b) > Date.parse(a) ? b : a;
}

/** The violation records of the object, by the uid of the validating call that wrote them. */
function violationsByUid(records: readonly ReadRecord[]): Map<string, ViolationRecord[]> {
  const out = new Map<string, ViolationRecord[]>();
  for (const raw of records) {
    if (raw.type !== 'violation') continue;
    const parsed = parseRecord(raw);
    if (!parsed.ok || parsed.record.type !== 'violation') continue;
    const v = parsed.record;
    let list = out.get(v.uid);
    if (list === undefined) out.set(v.uid, (list = []));
    list.push(v);
  }
  return out;
}

/**
 * Per field of the current object: the write that set it last and since when it is in drift (the
 * first non-GitOps write after the last GitOps one), reset at a CREATE as explain resets.
 */
function fieldHistory(entries: readonly TimelineEntry[]): {
  lastWrite: Map<string, WriteEntry>;
  since: Map<string, string>;
  createdAt: string;
} {
  let lastWrite = new Map<string, WriteEntry>();
  let since = new Map<string, string>();
  let createdAt = '';
  for (const e of entries) {
    if (e.kind !== 'write') continue;
    if (e.operation === 'CREATE' || e.operation === 'DELETE') {
      lastWrite = new Map();
      since = new Map();
      createdAt = e.time;
    }
    for (const c of e.changes) {
      if (c.path === '') continue;
      const field = changeField(c);
      lastWrite.set(field, e);
      if (e.actorClass === 'gitops' && c.by === 'requester') since.delete(field);
      else if (c.by === 'requester' && !since.has(field)) since.set(field, e.time);
    }
  }
  return { lastWrite, since, createdAt };
}

function objects(v: ViolationRecord, field: string): boolean {
  return (v.changesOmitted ?? 0) > 0 || v.changes.some((c) => changeField(c) === field);
}

function timestamp(iso: string): { seconds: number; nanos: number } {
  const ms = Date.parse(iso);
  const t = Number.isNaN(ms) ? 0 : ms;
  return { seconds: Math.floor(t / 1000), nanos: (t % 1000) * 1_000_000 };
}

function findingProperties(findings: readonly Finding[]): Record<string, string> {
  const p: Record<string, string> = { fields: findings.map((f) => f.field).join(', ') };
  for (const f of findings) p[f.field] = `set by ${f.by} at ${f.setAt}; in drift since ${f.since}`;
  const glass = findings.find((f) => f.violation.breakGlass !== undefined)?.violation;
  if (glass?.breakGlass !== undefined) {
    p.breakGlassBy = glass.actor.username;
    p.breakGlassReason = glass.breakGlass.reason;
    p.breakGlassExpires = glass.breakGlass.expires;
  }
  return p;
}

function deniedProperties(denied: readonly Denial[], keep: number): Record<string, string> {
  if (denied.length === 0) return {};
  const p: Record<string, string> = { deniedAttempts: String(denied.length) };
  const newest = [...denied].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)).slice(0, keep);
  newest.forEach((d, i) => {
    p[`denied.${i + 1}`] = `${d.time} ${d.by}: ${d.fields.join(', ')}`;
  });
  return p;
}

const ORDER: Record<ResultStatus, number> = { fail: 0, warn: 1, pass: 2 };

function describeFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.field} (set by ${f.by}, in drift since ${f.since})`).join(', ');
}

function resultOf(policy: string, s: PolicyState, settings: ReportPolicy, limits: ReportLimits): ReportResult {
  let result: ResultStatus;
  let message: string;
  let properties: Record<string, string>;
  if (s.fail.length > 0) {
    result = 'fail';
    const expired = s.fail[0]!.violation.breakGlass;
    message = `in drift from Git with no break-glass entry in effect${expired === undefined ? '' : ` (it expired at ${expired.expires})`}: ${describeFindings(s.fail)}`;
    properties = findingProperties(s.fail);
  } else if (s.warn.length > 0) {
    result = 'warn';
    // The latest violation's own words: what the requester was told.
    message = [...s.warn].sort((a, b) => Date.parse(b.violation.time) - Date.parse(a.violation.time))[0]!.said;
    properties = findingProperties(s.warn);
  } else {
    result = 'pass';
    const lastDenial = [...s.denied].sort((a, b) => Date.parse(b.time) - Date.parse(a.time))[0];
    message = lastDenial === undefined ? 'Git and the live object agree' : lastDenial.reason;
    properties = {};
  }
  const r: ReportResult = {
    policy,
    result,
    message,
    category: REPORT_CATEGORY,
    source: REPORT_SOURCE,
    timestamp: timestamp(s.last),
    properties: { ...properties, ...deniedProperties(s.denied, limits.deniedAttempts) },
  };
  if (settings.severity !== undefined) r.severity = settings.severity;
  return r;
}

/** The object's report, or undefined when its records say it no longer exists. */
export function computeReport(input: ComputeInput): ObjectReport | undefined {
  const limits = input.limits ?? DEFAULT_REPORT_LIMITS;
  const now = input.now.getTime();
  const { entries } = buildTimeline(input.records, input.target);
  const explained = explainTimeline(entries);
  if (explained.deleted !== undefined) return undefined;
  const violations = violationsByUid(input.records);
  const history = fieldHistory(entries);
  const states = new Map<string, PolicyState>();
  let nextChangeAt: number | undefined;

  // Every policy that reported on the current object (since its last CREATE) has a result.
  for (const e of entries) {
    if (history.createdAt !== '' && Date.parse(e.time) < Date.parse(history.createdAt)) continue;
    for (const note of e.policies) stateOf(states, note.policy).last = later(stateOf(states, note.policy).last, e.time);
    if (e.kind !== 'denied') continue;
    for (const v of violations.get(e.uid) ?? []) {
      if (v.allowed || v.decision !== 'denied') continue;
      stateOf(states, v.policy).denied.push({
        time: v.time,
        by: v.actor.username,
        fields: v.changes.map(changeField),
        reason: toldFor(input.told, v),
      });
    }
  }

  for (const field of explained.fields) {
    if (!field.drift) continue;
    const write = history.lastWrite.get(field.path);
    if (write === undefined) continue;
    for (const v of violations.get(write.uid) ?? []) {
      if (!v.allowed || !objects(v, field.path)) continue;
      const finding: Finding = {
        field: field.path,
        by: write.actor.username,
        setAt: write.time,
        since: history.since.get(field.path) ?? write.time,
        violation: v,
        said: toldFor(input.told, v),
      };
      const s = stateOf(states, v.policy);
      if (v.decision === 'break-glass' && v.breakGlass !== undefined) {
        const expires = Date.parse(v.breakGlass.expires);
        if (expires > now) {
          s.warn.push(finding);
          nextChangeAt = nextChangeAt === undefined ? expires : Math.min(nextChangeAt, expires);
        } else {
          s.fail.push(finding);
          s.last = later(s.last, v.breakGlass.expires);
        }
      } else if (v.decision === 'warned' || v.decision === 'audited') s.warn.push(finding);
    }
  }

  let results: ReportResult[] = [];
  for (const [policy, s] of states) {
    const settings = input.policies.get(policy);
    if (settings === undefined) continue;
    results.push(resultOf(policy, s, settings, limits));
  }
  results.sort((a, b) => ORDER[a.result] - ORDER[b.result] || (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
  const trimmed = Math.max(0, results.length - limits.maxResults);
  if (trimmed > 0) results = results.slice(0, limits.maxResults);
  const summary: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) summary[r.result]++;
  const written = new Map([...history.lastWrite].map(([field, w]) => [field, w.time]));
  const report: ObjectReport = { scope: input.scope, results, summary, trimmed, written };
  if (nextChangeAt !== undefined) report.nextChangeAt = nextChangeAt;
  return report;
}
