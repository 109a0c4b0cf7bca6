/**
 * One violation record as the audit reads it: the writer's fields, checked (records come from files
 * anyone can edit, or from another version), plus what every view needs precomputed (the target
 * object's kind, a display name, the UTC day). Pure.
 */
import { changeField } from '../engine/field-list.js';
import { describe, fromRecord } from '../k8s/object-ref.js';
import { describeOwner, type GitOpsOwner } from '../k8s/owner.js';
import type { ReadRecord } from '../records/read.js';
import { parseRecord } from '../records/record.js';
import type { ViolationDecision } from '../records/record.js';
import { supersededUids } from '../ledger/persisted.js';

export const DECISIONS: readonly ViolationDecision[] = ['denied', 'warned', 'audited', 'break-glass'];

export interface AuditEntry {
  time: string;
  /** Milliseconds since the epoch. */
  t: number;
  /** YYYY-MM-DD in UTC. */
  day: string;
  decision: ViolationDecision;
  allowed?: boolean;
  mode: string;
  policy: string;
  reason: string;
  username: string;
  groups: string[];
  actorClass: string;
  fieldManager?: string;
  operation: string;
  group: string;
  resource: string;
  subResource?: string;
  /** The target's kind: `Deployment` for a `deployments/scale` request. */
  kind: string;
  namespace?: string;
  name: string;
  /** `Deployment prod-shop/web` */
  object: string;
  /** The changed fields as keyed paths (docs/keyed-paths.md; "" = the whole object, for CREATE and DELETE). */
  fields: string[];
  /** The same fields as JSON Pointers with list indices, as at that write (same order). */
  pointers: string[];
  changesOmitted: number;
  owner?: GitOpsOwner;
  /** `Argo CD application shop`, or "" when the object has no GitOps owner. */
  ownerText: string;
  breakGlass?: { reason: string; expires: string };
  uid: string;
  /** The record as read, for views that print it whole (JSON list). */
  record: ReadRecord;
}

/** Why a line that parsed as a record is not in the audit. */
type Skip = 'change' | 'other-type' | 'invalid';

/** A violation record (as read, and as parseRecord checked it) as an entry, or why it is not one. */
function toEntry(record: ReadRecord, parsed: ReturnType<typeof parseRecord>): AuditEntry | Skip {
  if (record.type === 'change') return 'change';
  if (record.type !== 'violation') return 'other-type';
  if (!parsed.ok || parsed.record.type !== 'violation') return 'invalid';
  const v = parsed.record;
  const t = Date.parse(v.time);
  if (Number.isNaN(t)) return 'invalid';

  // The entry keeps the resource's fields as stored; the ref gives the object's kind and name.
  const { group, resource, subResource, namespace } = v.resource;
  const ref = fromRecord(v.resource);
  const { kind, name } = ref;
  const entry: AuditEntry = {
    time: v.time,
    t,
    day: new Date(t).toISOString().slice(0, 10),
    decision: v.decision,
    allowed: v.allowed,
    mode: v.mode,
    policy: v.policy,
    reason: v.reason,
    username: v.actor.username,
    groups: v.actor.groups,
    actorClass: v.actorClass,
    operation: v.operation,
    group,
    resource,
    kind,
    name,
    object: describe(ref),
    fields: v.changes.map(changeField),
    pointers: v.changes.map((c) => c.path),
    changesOmitted: v.changesOmitted ?? 0,
    ownerText: describeOwner(v.owner),
    uid: v.uid,
    record,
  };
  if (v.fieldManager !== undefined) entry.fieldManager = v.fieldManager;
  if (subResource !== undefined) entry.subResource = subResource;
  if (namespace !== undefined) entry.namespace = namespace;
  if (v.owner !== undefined) entry.owner = v.owner;
  if (v.breakGlass !== undefined) entry.breakGlass = v.breakGlass;
  return entry;
}

export interface EntryStats {
  violations: number;
  /** Change records (attribution ledger): read, not part of the audit of violations. */
  changes: number;
  /** driftguard records of another type. */
  otherTypes: number;
  /** Violation records missing what the audit needs (decision, actor, resource, policy). */
  invalid: number;
  /** Violation records of tries the API server retried and did not persist (ledger/persisted.ts): not counted. */
  superseded: number;
}

export function toEntries(records: readonly ReadRecord[]): { entries: AuditEntry[]; stats: EntryStats } {
  const stats: EntryStats = { violations: 0, changes: 0, otherTypes: 0, invalid: 0, superseded: 0 };
  const entries: AuditEntry[] = [];
  // Each record is checked once: for the superseded tries and for its entry.
  const parsed = records.map(parseRecord);
  const superseded = supersededUids(parsed.flatMap((p) => (p.ok ? [p.record] : [])));
  for (const [i, r] of records.entries()) {
    const e = toEntry(r, parsed[i]!);
    if (e === 'change') stats.changes++;
    else if (e === 'other-type') stats.otherTypes++;
    else if (e === 'invalid') stats.invalid++;
    else if (superseded.has(e.uid)) stats.superseded++;
    else {
      stats.violations++;
      entries.push(e);
    }
  }
  return { entries, stats };
}
