/**
 * One object's timeline from the records of every replica: admitted writes (final change records,
 * paired with their entry and exit observations) and denied attempts (violation records with
 * allowed: false). Pure: records in, data out.
 */
import type { ActorClass } from '../match/actors.js';
import type { GitOpsOwner } from '../k8s/owner.js';
import type { ReadRecord } from '../records/read.js';
import { changeField } from '../engine/field-list.js';
import { parseRecord } from '../records/record.js';
import type { ChangeRecord, ChangeStage, RecordActor, RecordChange, RecordResource, ViolationRecord } from '../records/record.js';
import { pairStages, type PairedWrite } from './pair.js';
import { supersededFinals } from './persisted.js';
import type { ObjectQuery } from '../k8s/object-ref.js';
import { isTargetObject, isTargetResource } from './target.js';
import { mergeSources, type AuditCoverage, type Disagreement, type MergedWrite } from './sources.js';

export interface LedgerChange extends RecordChange {
  /** Who set this field: the requester, or a mutating webhook between entry and exit. */
  by: 'requester' | 'webhook';
  /** The webhook that set it, when the audit log names it (its patch annotation). */
  webhook?: { configuration: string; webhook: string };
}

interface PolicyNote {
  policy: string;
  decision: ViolationRecord['decision'];
  mode: ViolationRecord['mode'];
  reason: string;
}

interface EntryBase {
  time: string;
  operation: ChangeRecord['operation'];
  actor: RecordActor;
  actorClass: ActorClass;
  fieldManager?: string;
  resource: RecordResource;
  changes: LedgerChange[];
  changesOmitted?: number;
  /** Policies that reported this request (warned, audited, break-glass, denied). */
  policies: PolicyNote[];
  /** The validating call's uid (violation and final records of one call share it). */
  uid: string;
}

export interface WriteEntry extends EntryBase {
  kind: 'write';
  owner?: GitOpsOwner;
  /** Which observation points saw this write. */
  stages: ChangeStage[];
  /** Which sources have this write: the webhooks' records, the audit log, or both (absent: the webhooks'). */
  source?: 'observer' | 'audit-log' | 'both';
}

interface DeniedEntry extends EntryBase {
  kind: 'denied';
}

export type TimelineEntry = WriteEntry | DeniedEntry;

export interface TimelineStats {
  writes: number;
  denied: number;
  /** Writes whose entry was found (webhook attribution possible: the final, or an older install's exit, is the other side). */
  observed: number;
  /** Entry/exit records that paired with no final (denied requests, or a final not among the sources). */
  unpaired: number;
  /** Admitted tries the API server did not persist (conflict retries, see persisted.ts): not in `entries`. */
  superseded: number;
  /** With audit log records among the sources: where they and the webhooks' records disagree (sources.ts). */
  audit?: { writes: number; disagreements: Disagreement[] };
}

export interface TimelineOptions {
  /** The span the audit log sources cover: an observed try in it that no audit event persisted was not persisted. */
  auditCoverage?: AuditCoverage;
}

function policyNote(v: ViolationRecord): PolicyNote {
  return { policy: v.policy, decision: v.decision, mode: v.mode, reason: v.reason };
}

function sameName(r: RecordResource, name: string): boolean {
  return r.name === name;
}

/** The target's records, checked and sorted: its final change records, the entry and exit ones of its resource, its violations. */
function targetRecords(
  records: readonly ReadRecord[],
  target: ObjectQuery,
): { finals: ChangeRecord[]; audited: ChangeRecord[]; observed: ChangeRecord[]; violations: ViolationRecord[] } {
  const finals: ChangeRecord[] = [];
  const audited: ChangeRecord[] = [];
  const observed: ChangeRecord[] = [];
  const violations: ViolationRecord[] = [];
  for (const raw of records) {
    const parsed = parseRecord(raw);
    if (!parsed.ok) continue;
    const r = parsed.record;
    if (r.type === 'change') {
      if (!isTargetResource(r.resource, target)) continue;
      if (r.source === 'audit-log') {
        if (sameName(r.resource, target.name)) audited.push(r);
      } else if (r.stage === 'final') {
        if (sameName(r.resource, target.name)) finals.push(r);
      } else observed.push(r);
    } else if (isTargetObject(r.resource, target)) violations.push(r);
  }
  return { finals, audited, observed, violations };
}

/** Violation records by the uid of the validating call that wrote them. */
function byCall(violations: readonly ViolationRecord[]): Map<string, ViolationRecord[]> {
  const byUid = new Map<string, ViolationRecord[]>();
  for (const v of violations) {
    let list = byUid.get(v.uid);
    if (list === undefined) byUid.set(v.uid, (list = []));
    list.push(v);
  }
  return byUid;
}

/** The changes of an audit-log record, each marked with who set it. */
function auditChanges(a: ChangeRecord, observedWebhook: ReadonlySet<string>): LedgerChange[] {
  const setBy = new Map((a.setByWebhook ?? []).map((s) => [s.path, s]));
  return a.changes.map((c) => {
    const s = setBy.get(c.path);
    const change: LedgerChange = { ...c, by: s !== undefined || observedWebhook.has(changeField(c)) ? 'webhook' : 'requester' };
    if (s !== undefined) change.webhook = { configuration: s.configuration, webhook: s.webhook };
    return change;
  });
}

/**
 * One stored write: from the observed try, the audit log's persisted write, or both (then the
 * persisted changes, unless the audit log could not tell them, and the webhooks' own judgement of
 * who the requester is); each change by the requester or a mutating webhook, and the policies that
 * let it through.
 */
function writeEntry(
  w: PairedWrite | undefined,
  a: ChangeRecord | undefined,
  byUid: ReadonlyMap<string, ViolationRecord[]>,
  withAudit: boolean,
): WriteEntry {
  const f = w?.final ?? a!;
  const stages: ChangeStage[] = [];
  if (w?.entry !== undefined) stages.push('entry');
  if (w?.exit !== undefined) stages.push('exit');
  stages.push('final');
  const webhookSet = w?.webhookPaths ?? new Set<string>();
  const auditKnows = a !== undefined && !(a.changes.length === 0 && (a.changesOmitted ?? 0) > 0 && w !== undefined);
  const changes: LedgerChange[] = auditKnows
    ? auditChanges(a, webhookSet)
    : f.changes.map((c) => ({ ...c, by: webhookSet.has(changeField(c)) ? 'webhook' : 'requester' }));
  const notes = (w === undefined ? [] : (byUid.get(w.final.uid) ?? [])).filter((v) => v.allowed).map(policyNote);
  const entry: WriteEntry = {
    kind: 'write',
    time: a?.time ?? f.time,
    operation: f.operation,
    actor: f.actor,
    actorClass: f.actorClass,
    resource: f.resource,
    changes,
    policies: notes,
    uid: f.uid,
    stages,
  };
  if (withAudit) entry.source = w === undefined ? 'audit-log' : a === undefined ? 'observer' : 'both';
  if (f.fieldManager !== undefined) entry.fieldManager = f.fieldManager;
  const omitted = auditKnows ? a.changesOmitted : f.changesOmitted;
  if (omitted !== undefined) entry.changesOmitted = omitted;
  const owner = f.owner ?? a?.owner;
  if (owner !== undefined) entry.owner = owner;
  return entry;
}

/** One denied attempt, from the violation records of its call (at least one of them not allowed). */
function deniedEntry(list: readonly ViolationRecord[]): DeniedEntry {
  const first = list[0]!;
  // Each policy lists the changes it objects to; the attempt made all of them.
  const seen = new Set<string>();
  const changes: LedgerChange[] = [];
  for (const v of list) {
    for (const c of v.changes) {
      const field = changeField(c);
      if (seen.has(field)) continue;
      seen.add(field);
      changes.push({ ...c, by: 'requester' });
    }
  }
  const entry: DeniedEntry = {
    kind: 'denied',
    time: first.time,
    operation: first.operation,
    actor: first.actor,
    actorClass: first.actorClass,
    resource: first.resource,
    changes,
    policies: list.map(policyNote),
    uid: first.uid,
  };
  if (first.fieldManager !== undefined) entry.fieldManager = first.fieldManager;
  const omitted = Math.max(...list.map((v) => v.changesOmitted ?? 0));
  if (omitted > 0) entry.changesOmitted = omitted;
  return entry;
}

export function buildTimeline(
  records: readonly ReadRecord[],
  target: ObjectQuery,
  opts: TimelineOptions = {},
): { entries: TimelineEntry[]; stats: TimelineStats } {
  const { finals, audited, observed, violations } = targetRecords(records, target);
  // Entry and exit of a generateName CREATE carry no name yet: they are found by the final's key.
  const keys = new Set(finals.map((f) => f.correlation));
  const { writes: tries, unpaired } = pairStages(
    finals,
    observed.filter((o) => keys.has(o.correlation)),
  );
  // A try that was retried and not stored is no write: its entry and exit went with it.
  const superseded = supersededFinals(finals);
  const writes = tries.filter((w) => !superseded.has(w.final));
  const unpairedOfObject = unpaired + observed.filter((o) => !keys.has(o.correlation) && sameName(o.resource, target.name)).length;

  const byUid = byCall(violations);
  const merged: { writes: MergedWrite[]; disagreements: Disagreement[] } =
    audited.length === 0
      ? { writes: writes.map((w) => ({ observed: w })), disagreements: [] }
      : mergeSources(writes, audited, opts.auditCoverage, finals.length + observed.length > 0);
  const entries: TimelineEntry[] = merged.writes.map((m) => writeEntry(m.observed, m.audit, byUid, audited.length > 0));
  let denied = 0;
  for (const list of byUid.values()) {
    if (list.every((v) => v.allowed)) continue;
    denied++;
    entries.push(deniedEntry(list));
  }

  entries.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return {
    entries,
    stats: {
      writes: writes.length,
      denied,
      observed: writes.filter((w) => w.entry !== undefined).length,
      unpaired: unpairedOfObject,
      superseded: superseded.size,
      ...(audited.length === 0 ? {} : { audit: { writes: audited.length, disagreements: merged.disagreements } }),
    },
  };
}
