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

export interface LedgerChange extends RecordChange {
  /** Who set this field: the requester, or a mutating webhook between entry and exit. */
  by: 'requester' | 'webhook';
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
}

interface DeniedEntry extends EntryBase {
  kind: 'denied';
}

export type TimelineEntry = WriteEntry | DeniedEntry;

export interface TimelineStats {
  writes: number;
  denied: number;
  /** Writes whose entry and exit were both found (webhook attribution possible). */
  observed: number;
  /** Entry/exit records that paired with no final (denied requests, or a final not among the sources). */
  unpaired: number;
  /** Admitted tries the API server did not persist (conflict retries, see persisted.ts): not in `entries`. */
  superseded: number;
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
): { finals: ChangeRecord[]; observed: ChangeRecord[]; violations: ViolationRecord[] } {
  const finals: ChangeRecord[] = [];
  const observed: ChangeRecord[] = [];
  const violations: ViolationRecord[] = [];
  for (const raw of records) {
    const parsed = parseRecord(raw);
    if (!parsed.ok) continue;
    const r = parsed.record;
    if (r.type === 'change') {
      if (!isTargetResource(r.resource, target)) continue;
      if (r.stage === 'final') {
        if (sameName(r.resource, target.name)) finals.push(r);
      } else observed.push(r);
    } else if (isTargetObject(r.resource, target)) violations.push(r);
  }
  return { finals, observed, violations };
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

/** One stored write: its final record's changes, each by the requester or a mutating webhook, and the policies that let it through. */
function writeEntry(w: PairedWrite, byUid: ReadonlyMap<string, ViolationRecord[]>): WriteEntry {
  const f = w.final;
  const stages: ChangeStage[] = [];
  if (w.entry !== undefined) stages.push('entry');
  if (w.exit !== undefined) stages.push('exit');
  stages.push('final');
  const notes = (byUid.get(f.uid) ?? []).filter((v) => v.allowed).map(policyNote);
  const entry: WriteEntry = {
    kind: 'write',
    time: f.time,
    operation: f.operation,
    actor: f.actor,
    actorClass: f.actorClass,
    resource: f.resource,
    changes: f.changes.map((c) => ({ ...c, by: w.webhookPaths.has(changeField(c)) ? 'webhook' : 'requester' })),
    policies: notes,
    uid: f.uid,
    stages,
  };
  if (f.fieldManager !== undefined) entry.fieldManager = f.fieldManager;
  if (f.changesOmitted !== undefined) entry.changesOmitted = f.changesOmitted;
  if (f.owner !== undefined) entry.owner = f.owner;
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

export function buildTimeline(records: readonly ReadRecord[], target: ObjectQuery): { entries: TimelineEntry[]; stats: TimelineStats } {
  const { finals, observed, violations } = targetRecords(records, target);
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
  const entries: TimelineEntry[] = writes.map((w) => writeEntry(w, byUid));
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
      observed: writes.filter((w) => w.entry !== undefined && w.exit !== undefined).length,
      unpaired: unpairedOfObject,
      superseded: superseded.size,
    },
  };
}
