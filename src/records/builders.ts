/**
 * The record builders: the records driftguard writes, one JSON line each, built here from a
 * request in the shape the schema module (record.ts) defines; readers check a line with
 * parseRecord and import every record type from record.ts. docs/records.md describes every field.
 */
import type { AdmissionRequest } from '../k8s/admission.js';
import type { ActorClass } from '../match/actors.js';
import type { Change } from '../engine/diff.js';
import {
  RECORD_SCHEMA,
  type ChangeRecord,
  type ChangeStage,
  type RecordActor,
  type RecordBase,
  type RecordChange,
  type RecordResource,
  type ViolationDecision,
  type ViolationRecord,
} from './record.js';
import type { PolicyResult } from '../engine/evaluate.js';
import type { GitOpsOwner } from '../k8s/owner.js';
import { requestNames } from '../k8s/object-ref.js';
import { preview } from './preview.js';
import { contentDigest, type ValueHashes } from './digest.js';
import { isSecretRequest, sanitizeChange } from './secrets.js';

export const MAX_CHANGES_PER_RECORD = 100;

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
  const { name, generateName } = requestNames(req);
  if (name !== undefined) res.name = name;
  if (generateName !== undefined) res.generateName = generateName;
  return res;
}

/** One change as a record holds it: a Secret's values redacted, long values cut to a preview. */
export function recordChange(c: Change, secret: boolean): RecordChange {
  const clean = sanitizeChange(c, secret);
  const rc: RecordChange = { path: clean.path, op: clean.op };
  if (clean.keyed !== undefined) rc.keyed = clean.keyed;
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
  return rc;
}

/**
 * Redact, cut values at 256 characters, and list at most `limit` changes (100 for violations;
 * change records list a created object's leaves, so they take a larger limit).
 */
export function recordChanges(
  req: AdmissionRequest,
  changes: readonly Change[],
  truncated = false,
  limit = MAX_CHANGES_PER_RECORD,
): { changes: RecordChange[]; omitted: number } {
  const secret = isSecretRequest(req);
  const out: RecordChange[] = [];
  for (const c of changes.slice(0, limit)) out.push(recordChange(c, secret));
  return { changes: out, omitted: Math.max(0, changes.length - limit) + (truncated ? 1 : 0) };
}

export interface ViolationContext {
  request: AdmissionRequest;
  result: PolicyResult;
  /** The policy's decision, from policyDecision(result). */
  decision: ViolationDecision;
  allowed: boolean;
  actorClass: ActorClass;
  owner?: GitOpsOwner;
  time: Date;
}

/**
 * The fields every record shares, in the order they are written: who, what, which changes, and the
 * optional field manager, omitted-change count and GitOps owner.
 */
function commonFields(
  req: AdmissionRequest,
  actorClass: ActorClass,
  changes: RecordChange[],
  omitted: number,
  owner: GitOpsOwner | undefined,
): Omit<RecordBase, 'schema' | 'time'> {
  const base: Omit<RecordBase, 'schema' | 'time'> = {
    actor: recordActor(req),
    actorClass,
    operation: req.operation,
    resource: recordResource(req),
    changes,
    uid: req.uid,
  };
  const fm = fieldManager(req);
  if (fm !== undefined) base.fieldManager = fm;
  if (omitted > 0) base.changesOmitted = omitted;
  if (owner !== undefined) base.owner = owner;
  return base;
}

export function violationRecord(ctx: ViolationContext): ViolationRecord {
  const { request: req, result } = ctx;
  const { changes, omitted } = recordChanges(req, result.violations ?? [], result.truncated === true);
  const rec: ViolationRecord = {
    schema: RECORD_SCHEMA,
    type: 'violation',
    time: ctx.time.toISOString(),
    decision: ctx.decision,
    allowed: ctx.allowed,
    mode: result.mode,
    policy: result.policy,
    reason: result.reason,
    ...commonFields(req, ctx.actorClass, changes, omitted, ctx.owner),
  };
  if (result.breakGlass !== undefined) rec.breakGlass = result.breakGlass;
  return rec;
}

/** Change records list at most this many leaves: a large Deployment's CREATE fits, a hostile object does not. */
export const MAX_CHANGES_PER_CHANGE_RECORD = 500;

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The key that pairs the entry, exit and final records of one request: operation, resource (with
 * subresource), namespace, name (generateName for a CREATE that asked for one: the mutating webhooks
 * see no name yet), the requester, and the stored object's resourceVersion. Names and resources
 * cannot hold spaces and the username comes last, so distinct requests give distinct strings.
 */
export function correlationKey(req: AdmissionRequest): string {
  const names = requestNames(req);
  const name = req.operation === 'CREATE' && names.generateName !== undefined ? `${names.generateName}*` : (names.name ?? '');
  const sub = nonEmpty(req.subResource);
  const resource = `${req.resource.group}/${req.resource.resource}${sub === undefined ? '' : `/${sub}`}`;
  const rv = nonEmpty(req.oldObject?.metadata?.resourceVersion) ?? '-';
  return `${req.operation} ${resource} ${req.namespace ?? ''}/${name} ${rv} ${req.userInfo.username}`;
}

export interface ChangeContext {
  request: AdmissionRequest;
  stage: ChangeStage;
  changes: readonly Change[];
  /** The diff stopped at its bound. */
  truncated: boolean;
  actorClass: ActorClass;
  owner?: GitOpsOwner;
  time: Date;
}

export function changeRecord(ctx: ChangeContext): ChangeRecord {
  const req = ctx.request;
  const { changes, omitted } = recordChanges(req, ctx.changes, ctx.truncated, MAX_CHANGES_PER_CHANGE_RECORD);
  const rec: ChangeRecord = {
    schema: RECORD_SCHEMA,
    type: 'change',
    time: ctx.time.toISOString(),
    stage: ctx.stage,
    correlation: correlationKey(req),
    ...commonFields(req, ctx.actorClass, changes, omitted, ctx.owner),
  };
  const rv = nonEmpty(req.oldObject?.metadata?.resourceVersion);
  if (rv !== undefined) rec.oldResourceVersion = rv;
  const objectUid = nonEmpty(req.oldObject?.metadata?.uid) ?? nonEmpty(req.object?.metadata?.uid);
  if (objectUid !== undefined) rec.objectUid = objectUid;
  if (ctx.stage === 'final') {
    const secret = isSecretRequest(req);
    const hashes: ValueHashes = new Map();
    const digest = contentDigest(req.object, secret, hashes);
    const oldDigest = contentDigest(req.oldObject, secret, hashes);
    if (digest !== undefined) rec.objectDigest = digest;
    if (oldDigest !== undefined) rec.oldObjectDigest = oldDigest;
  }
  return rec;
}
