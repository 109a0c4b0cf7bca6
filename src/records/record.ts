/**
 * The shape of a record, as one zod schema: the record types the writers build are inferred from
 * it, and every reader (explain, history, audit) checks a line read back with parseRecord() before
 * it trusts a field. Records come from files anyone can edit, or from another version, so a line of
 * the right schema but the wrong shape is reported, never trusted. docs/records.md describes every
 * field (test/records/record-schema.test.ts keeps the two in step). Fields the schema does not
 * name are dropped from the parsed record; views that print a record whole print the line as read.
 */
import { POLICY_DECISIONS } from '../engine/decision.js';
import { recordResourceSchema, type RecordResource } from '../k8s/object-ref.js';
import { z } from '../zod.js';

/**
 * The schema every record is written with. v2 added `keyed` to changes (an item of a keyed list by
 * key, docs/keyed-paths.md); a v1 record is read as it was written: its paths are by index only.
 */
export const RECORD_SCHEMA = 'driftguard.io/v2';
/** Every schema the readers accept, oldest first. */
export const READABLE_SCHEMAS: ReadonlySet<string> = new Set(['driftguard.io/v1', RECORD_SCHEMA]);

const actorSchema = z.object({
  username: z.string(),
  groups: z.array(z.string()),
  uid: z.optional(z.string()),
});

/** The object: its resource as the request named it (k8s/object-ref.ts, where fromRecord reads it). */
const resourceSchema = recordResourceSchema;

const changeSchema = z.object({
  /** JSON Pointer with list indices as they were at that write (the old index for a removal). */
  path: z.string(),
  /** The same field by key when it lies in an item of a keyed list (v2): /spec/template/spec/containers[name=api]/image. */
  keyed: z.optional(z.string()),
  op: z.enum(['add', 'remove', 'replace']),
  old: z.optional(z.unknown()),
  new: z.optional(z.unknown()),
  /** A value was cut at 256 characters. */
  truncated: z.optional(z.literal(true)),
});

const ownerSchema = z.discriminatedUnion('tool', [
  z.object({
    tool: z.literal('argocd'),
    application: z.string(),
    namespace: z.optional(z.string()),
    source: z.enum(['tracking-id', 'instance-label']),
  }),
  z.object({
    tool: z.literal('flux'),
    kind: z.enum(['Kustomization', 'HelmRelease']),
    name: z.string(),
    namespace: z.optional(z.string()),
  }),
]);

/** The fields every record shares. */
const baseShape = {
  schema: z.enum(['driftguard.io/v1', RECORD_SCHEMA]),
  time: z.string(),
  actor: actorSchema,
  actorClass: z.enum(['gitops', 'controller', 'person', 'unknown']),
  fieldManager: z.optional(z.string()),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  resource: resourceSchema,
  changes: z.array(changeSchema),
  /** Changes not listed (over the per-record limit, or over the diff's own bound). */
  changesOmitted: z.optional(z.number()),
  /** The GitOps owner; one a reader cannot use is dropped, not fatal. */
  owner: z.catch(z.optional(ownerSchema), undefined),
  /** The uid of this webhook call: unique per call, never a key for pairing. */
  uid: z.string(),
  /** The cluster `serve --cluster NAME` stamped: one records store serves a fleet (docs/store.md). */
  cluster: z.optional(z.string()),
};

const violationShape = {
  type: z.literal('violation'),
  /** This policy's decision (engine/decision.ts policyDecision). */
  decision: z.enum(POLICY_DECISIONS),
  /** Whether the request as a whole was admitted (a warned policy can sit beside a denying one). */
  allowed: z.boolean(),
  mode: z.enum(['enforce', 'warn', 'audit']),
  policy: z.string(),
  reason: z.string(),
  breakGlass: z.optional(z.object({ reason: z.string(), expires: z.string() })),
};

const changeRecordShape = {
  type: z.literal('change'),
  /** Where a change was seen: before other mutating webhooks, after them, or as it will be persisted. */
  stage: z.enum(['entry', 'exit', 'final']),
  /** Same for the entry, exit and final records of one request (see correlationKey). */
  correlation: z.string(),
  /** resourceVersion of the stored object the write applies to (UPDATE, DELETE). */
  oldResourceVersion: z.optional(z.string()),
  /** metadata.uid of the object, once the API server has given it one (not at a CREATE's entry and exit). */
  objectUid: z.optional(z.string()),
  /**
   * Stage final only: content digests (records/digest.ts) of the object as admitted and of the stored
   * object it replaces. A try the API server did not persist (a conflict retry) is told apart by
   * them: the next write starts from what was persisted (ledger/persisted.ts).
   */
  objectDigest: z.optional(z.string()),
  oldObjectDigest: z.optional(z.string()),
  /**
   * Where the record came from: absent for the webhooks' own observations, `audit-log` for a write
   * read from the API server's audit log (src/auditlog/): persisted, its changes from successive
   * responseObjects (docs/audit-log.md).
   */
  source: z.optional(z.literal('audit-log')),
  /** Audit-log records: the changed fields a mutating webhook's patch set, with the webhook's names. */
  setByWebhook: z.optional(z.array(z.object({ path: z.string(), configuration: z.string(), webhook: z.string() }))),
};

const baseRecordSchema = z.object(baseShape);
const violationRecordSchema = z.extend(baseRecordSchema, violationShape);
const changeRecordSchema = z.extend(baseRecordSchema, changeRecordShape);
const recordSchema = z.discriminatedUnion('type', [violationRecordSchema, changeRecordSchema]);

/** The field names each part of a record has, for the docs test. */
export const RECORD_FIELDS = {
  common: [...Object.keys(baseShape), 'type'],
  violation: Object.keys(violationShape).filter((k) => k !== 'type'),
  change: Object.keys(changeRecordShape).filter((k) => k !== 'type'),
  actor: Object.keys(actorSchema.shape),
  resource: Object.keys(resourceSchema.shape),
  changes: Object.keys(changeSchema.shape),
} as const;

/** The fields every record shares. */
export type RecordBase = z.infer<typeof baseRecordSchema>;
export type RecordActor = z.infer<typeof actorSchema>;
export type { RecordResource };
export type RecordChange = z.infer<typeof changeSchema>;
export type ViolationRecord = z.infer<typeof violationRecordSchema>;
export type ChangeRecord = z.infer<typeof changeRecordSchema>;
export type DriftRecord = ViolationRecord | ChangeRecord;
export type ViolationDecision = ViolationRecord['decision'];
export type ChangeStage = ChangeRecord['stage'];

/** A line read back as a record of a known shape, or what is wrong with it (first problem, with its field). */
export function parseRecord(value: unknown): { ok: true; record: DriftRecord } | { ok: false; problem: string } {
  const r = recordSchema.safeParse(value);
  if (r.success) return { ok: true, record: r.data };
  const issue = r.error.issues[0];
  return { ok: false, problem: issue === undefined ? 'not a record' : `${issue.path.join('.') || 'record'}: ${issue.message}` };
}
