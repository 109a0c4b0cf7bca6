/**
 * The records driftguard writes, one JSON line each, versioned by `schema`. Readers (explain,
 * history, audit) accept every line whose schema they know and count the rest.
 * docs/records.md describes every field.
 */
import type { AdmissionRequest, Operation } from '../admission/types.js';
import type { ActorClass } from '../engine/actors.js';
import type { Change } from '../engine/diff.js';
import type { PolicyResult } from '../engine/evaluate.js';
import type { GitOpsOwner } from '../engine/owner.js';
import { preview } from './preview.js';
import { isSecretRequest, sanitizeChange } from './redact.js';

export const RECORD_SCHEMA = 'driftguard.io/v1';
export const MAX_CHANGES_PER_RECORD = 100;

export type ViolationDecision = 'denied' | 'warned' | 'audited' | 'break-glass';

export interface RecordActor {
  username: string;
  groups: string[];
  uid?: string;
}

export interface RecordResource {
  group: string;
  version: string;
  resource: string;
  subResource?: string;
  kind: string;
  namespace?: string;
  name?: string;
  generateName?: string;
}

export interface RecordChange {
  path: string;
  op: Change['op'];
  old?: unknown;
  new?: unknown;
  /** A value was cut at 256 characters. */
  truncated?: true;
}

interface RecordBase {
  schema: typeof RECORD_SCHEMA;
  time: string;
  actor: RecordActor;
  actorClass: ActorClass;
  fieldManager?: string;
  operation: Operation;
  resource: RecordResource;
  changes: RecordChange[];
  /** Changes not listed (over 100 per record, or over the diff's own bound). */
  changesOmitted?: number;
  owner?: GitOpsOwner;
  /** The uid of this webhook call: unique per call, never a key for pairing. */
  uid: string;
}

export interface ViolationRecord extends RecordBase {
  type: 'violation';
  decision: ViolationDecision;
  /** Whether the request as a whole was admitted (a warned policy can sit beside a denying one). */
  allowed: boolean;
  mode: PolicyResult['mode'];
  policy: string;
  reason: string;
  breakGlass?: { reason: string; expires: string };
}

export type DriftRecord = ViolationRecord;

export function recordActor(req: AdmissionRequest): RecordActor {
  const u = req.userInfo;
  const actor: RecordActor = { username: u.username, groups: Array.isArray(u.groups) ? [...u.groups] : [] };
  if (typeof u.uid === 'string' && u.uid !== '') actor.uid = u.uid;
  return actor;
}

export function fieldManager(req: AdmissionRequest): string | undefined {
  const fm = req.options?.fieldManager;
  return typeof fm === 'string' && fm !== '' ? fm : undefined;
}

export function recordResource(req: AdmissionRequest): RecordResource {
  const res: RecordResource = {
    group: req.resource.group,
    version: req.resource.version,
    resource: req.resource.resource,
    kind: req.kind.kind,
  };
  if (typeof req.subResource === 'string' && req.subResource !== '') res.subResource = req.subResource;
  if (typeof req.namespace === 'string' && req.namespace !== '') res.namespace = req.namespace;
  const meta = (req.object ?? req.oldObject)?.metadata;
  const name = typeof req.name === 'string' && req.name !== '' ? req.name : meta?.name;
  if (typeof name === 'string' && name !== '') res.name = name;
  if (typeof meta?.generateName === 'string' && meta.generateName !== '') res.generateName = meta.generateName;
  return res;
}

/** Redact, cut values at 256 characters, and list at most 100 changes. */
export function recordChanges(req: AdmissionRequest, changes: readonly Change[], truncated = false): { changes: RecordChange[]; omitted: number } {
  const secret = isSecretRequest(req);
  const out: RecordChange[] = [];
  for (const c of changes.slice(0, MAX_CHANGES_PER_RECORD)) {
    const clean = sanitizeChange(c, secret);
    const rc: RecordChange = { path: clean.path, op: clean.op };
    let cut = false;
    if ('old' in clean) {
      const p = preview(clean.old);
      rc.old = p.value;
      cut ||= p.truncated;
    }
    if ('new' in clean) {
      const p = preview(clean.new);
      rc.new = p.value;
      cut ||= p.truncated;
    }
    if (cut) rc.truncated = true;
    out.push(rc);
  }
  return { changes: out, omitted: Math.max(0, changes.length - MAX_CHANGES_PER_RECORD) + (truncated ? 1 : 0) };
}

const DECISION: Partial<Record<PolicyResult['status'], ViolationDecision>> = {
  fail: 'denied',
  warn: 'warned',
  audit: 'audited',
  breakglass: 'break-glass',
};

export interface ViolationContext {
  request: AdmissionRequest;
  result: PolicyResult;
  allowed: boolean;
  actorClass: ActorClass;
  owner?: GitOpsOwner;
  time: Date;
}

export function violationRecord(ctx: ViolationContext): ViolationRecord {
  const { request: req, result } = ctx;
  const decision = DECISION[result.status] ?? (ctx.allowed ? 'warned' : 'denied');
  const { changes, omitted } = recordChanges(req, result.violations ?? [], result.truncated === true);
  const rec: ViolationRecord = {
    schema: RECORD_SCHEMA,
    type: 'violation',
    time: ctx.time.toISOString(),
    decision,
    allowed: ctx.allowed,
    mode: result.mode,
    policy: result.policy,
    reason: result.reason,
    actor: recordActor(req),
    actorClass: ctx.actorClass,
    operation: req.operation,
    resource: recordResource(req),
    changes,
    uid: req.uid,
  };
  const fm = fieldManager(req);
  if (fm !== undefined) rec.fieldManager = fm;
  if (omitted > 0) rec.changesOmitted = omitted;
  if (ctx.owner !== undefined) rec.owner = ctx.owner;
  if (result.breakGlass !== undefined) rec.breakGlass = result.breakGlass;
  return rec;
}
