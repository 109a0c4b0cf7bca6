/**
 * One violation record as the audit reads it: the writer's fields, checked (records come from files
 * anyone can edit, or from another version), plus what every view needs precomputed (the target
 * object's kind, a display name, the UTC day). Pure.
 */
import { targetKind } from '../cluster/kinds.js';
import { describeOwner } from '../engine/decision.js';
import type { GitOpsOwner } from '../engine/owner.js';
import type { ReadRecord } from '../records/read.js';
import type { ViolationDecision } from '../records/schema.js';
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
  /** JSON Pointers of the changed fields ("" = the whole object, for CREATE and DELETE). */
  fields: string[];
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
export type Skip = 'change' | 'other-type' | 'invalid';

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function owner(v: unknown): GitOpsOwner | undefined {
  const o = obj(v);
  if (o === undefined) return undefined;
  const ns = str(o.namespace);
  if (o.tool === 'argocd' && str(o.application) !== undefined) {
    const source = o.source === 'instance-label' ? 'instance-label' : 'tracking-id';
    return { tool: 'argocd', application: o.application as string, source, ...(ns === undefined ? {} : { namespace: ns }) };
  }
  if (o.tool === 'flux' && str(o.name) !== undefined && (o.kind === 'Kustomization' || o.kind === 'HelmRelease')) {
    return { tool: 'flux', kind: o.kind, name: o.name as string, ...(ns === undefined ? {} : { namespace: ns }) };
  }
  return undefined;
}

export function displayObject(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** A violation record as an entry, or why it is not one. */
export function toEntry(record: ReadRecord): AuditEntry | Skip {
  if (record.type === 'change') return 'change';
  if (record.type !== 'violation') return 'other-type';
  const decision = record.decision as ViolationDecision;
  const actor = obj(record.actor);
  const res = obj(record.resource);
  const username = str(actor?.username);
  const policy = str(record.policy);
  const t = Date.parse(record.time);
  if (!DECISIONS.includes(decision) || username === undefined || res === undefined || policy === undefined || Number.isNaN(t))
    return 'invalid';

  const group = str(res.group) ?? '';
  const resource = str(res.resource) ?? '';
  const subResource = str(res.subResource);
  const kind = targetKind({ group, resource, kind: str(res.kind) ?? resource, ...(subResource === undefined ? {} : { subResource }) });
  const namespace = str(res.namespace);
  const name = str(res.name) ?? (str(res.generateName) === undefined ? '' : `${res.generateName as string}*`);
  const changes = Array.isArray(record.changes) ? record.changes : [];
  const fields = changes.map((c) => str(obj(c)?.path)).filter((p): p is string => p !== undefined);
  const o = owner(record.owner);
  const bg = obj(record.breakGlass);
  const fieldManager = str(record.fieldManager);
  const entry: AuditEntry = {
    time: record.time,
    t,
    day: new Date(t).toISOString().slice(0, 10),
    decision,
    mode: str(record.mode) ?? '',
    policy,
    reason: str(record.reason) ?? '',
    username,
    groups: Array.isArray(actor?.groups) ? (actor.groups as unknown[]).filter((g): g is string => typeof g === 'string') : [],
    actorClass: str(record.actorClass) ?? 'unknown',
    operation: str(record.operation) ?? '',
    group,
    resource,
    kind,
    name,
    object: displayObject(kind, namespace, name),
    fields,
    changesOmitted: typeof record.changesOmitted === 'number' ? record.changesOmitted : 0,
    ownerText: describeOwner(o),
    uid: str(record.uid) ?? '',
    record,
  };
  if (typeof record.allowed === 'boolean') entry.allowed = record.allowed;
  if (fieldManager !== undefined) entry.fieldManager = fieldManager;
  if (subResource !== undefined) entry.subResource = subResource;
  if (namespace !== undefined) entry.namespace = namespace;
  if (o !== undefined) entry.owner = o;
  if (bg !== undefined) entry.breakGlass = { reason: str(bg.reason) ?? '', expires: str(bg.expires) ?? '' };
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
  const superseded = supersededUids(records);
  for (const r of records) {
    const e = toEntry(r);
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
