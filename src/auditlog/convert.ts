/**
 * Audit events -> change records. Each write the API server completed (stage ResponseComplete, a
 * 2xx status, not a dry run) becomes one `final` change record with `source: audit-log`; its
 * changes are the diff between the object as the previous event of the same object left it and
 * this event's `responseObject` (the object as persisted, level RequestResponse). A failed request
 * (409 conflict, 403 denied, 422 invalid) is never a change. Fields a mutating webhook's JSON patch
 * set (the `patch.webhook.admission.k8s.io/` annotations, level Request and above) are listed in
 * `setByWebhook` with the webhook's configuration and name. A Secret's values never reach a record:
 * the state kept between events holds their hashes only, and every change is redacted as the
 * webhooks' records are (records/secrets.ts), whatever the audit policy let through.
 * docs/audit-log.md says what each part relies on. Pure apart from the state it keeps per object.
 */
import { createHash } from 'node:crypto';
import { diff, type Change } from '../engine/diff.js';
import { diffOptions } from '../engine/request.js';
import type { KubeObject } from '../k8s/admission.js';
import { builtinByResource } from '../k8s/kinds.js';
import { builtinListKeys, type ListKeyIndex } from '../k8s/list-keys.js';
import { gitOpsOwner, marksOf } from '../k8s/owner.js';
import { classifyActor, type ActorMatcher } from '../match/actors.js';
import { escapeToken, isAtOrBelow, parsePointer, toPointer } from '../match/pointer.js';
import { itemSelector } from '../match/keyed-path.js';
import { contentDigest } from '../records/digest.js';
import { RECORD_SCHEMA, type ChangeRecord, type RecordResource } from '../records/record.js';
import { MAX_CHANGES_PER_CHANGE_RECORD, recordChange } from '../records/builders.js';
import { effectiveUser, eventNamespace, type AuditEvent } from './event.js';

const PATCH_ANNOTATION_PREFIX = 'patch.webhook.admission.k8s.io/';

/** Why an event is no change: each is counted, none is an error. */
export type SkipReason =
  /** RequestReceived, ResponseStarted, Panic: only ResponseComplete says how the request ended. */
  | 'stage'
  /** get, list, watch, and every verb that writes nothing. */
  | 'read'
  /** A status other than 2xx: a conflict, a denial, an invalid object. Never a change. */
  | 'failed'
  | 'dry-run'
  /** deletecollection names no object. */
  | 'collection'
  /** A subresource other than scale (status is never drift). */
  | 'subresource'
  /**
   * An update that changed nothing the ledger compares (a controller's bookkeeping: the revision
   * annotation, managedFields): the webhooks write no record for it either.
   */
  | 'unchanged';

export type Converted =
  { kind: 'change'; record: ChangeRecord } | { kind: 'skip'; reason: SkipReason } | { kind: 'problem'; problem: string };

export interface ConverterOptions {
  /** Who counts as GitOps (the presets, the users policies or records name as GitOps). */
  gitops: readonly ActorMatcher[];
  listKeys?: ListKeyIndex;
  /** Objects whose last persisted state is kept (least recently written dropped first). */
  maxObjects?: number;
}

/** What a converter holds between events: per object, its last persisted state (Secret values hashed). */
interface ObjectState {
  object: Record<string, unknown>;
  kind: string;
  version: string;
}

const OPERATION: Readonly<Record<string, ChangeRecord['operation']>> = {
  create: 'CREATE',
  update: 'UPDATE',
  patch: 'UPDATE',
  delete: 'DELETE',
};
const READ_VERBS = new Set(['get', 'list', 'watch', 'proxy', 'connect']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function sha(value: unknown): string {
  return `sha256:${createHash('sha256')
    .update(typeof value === 'string' ? value : JSON.stringify(value))
    .digest('base64url')
    .slice(0, 22)}`;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A Secret with its values (and the last-applied annotation, which embeds them) replaced by hashes. */
function withoutSecretValues(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...obj };
  for (const key of ['data', 'stringData']) {
    const map = out[key];
    if (isRecord(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, sha(v)]));
    else if (map !== undefined) out[key] = sha(map);
  }
  if (isRecord(out.metadata) && isRecord(out.metadata.annotations) && LAST_APPLIED in out.metadata.annotations) {
    const annotations = { ...out.metadata.annotations, [LAST_APPLIED]: sha(out.metadata.annotations[LAST_APPLIED]) };
    out.metadata = { ...out.metadata, annotations };
  }
  return out;
}

function valueAt(obj: unknown, pointer: string): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(cur) && /^\d+$/.test(token)) cur = cur[Number(token)];
    else if (isRecord(cur) && Object.hasOwn(cur, token)) cur = cur[token];
    else return { found: false };
    if (cur === undefined) return { found: false };
  }
  return { found: true, value: cur };
}

/**
 * The fields a patch names, for a patch of an object no earlier event showed: every leaf of a merge,
 * strategic-merge or apply patch, or the path of each JSON patch operation (cut at a list index);
 * `$` directives are no field. In a merge patch, an item of a list with a `name` (containers, env,
 * ports by name) is the stored item of that name, and its leaves get their keyed paths
 * (docs/keyed-paths.md); another list is named whole.
 */
function patchedPaths(patch: unknown, stored: unknown): Array<{ path: string; keyed?: string }> {
  const out = new Map<string, { path: string; keyed?: string }>();
  const add = (path: string, keyed: string): void => {
    if (!out.has(path)) out.set(path, keyed === path ? { path } : { path, keyed });
  };
  if (Array.isArray(patch)) {
    for (const op of patch) if (isRecord(op) && typeof op.path === 'string') add(cutAtList(op.path), cutAtList(op.path));
    return [...out.values()];
  }
  const walk = (v: unknown, tokens: string[], keyed: string, at: unknown): void => {
    if (isRecord(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) {
        if (k.startsWith('$')) continue;
        walk(child, [...tokens, k], `${keyed}/${escapeToken(k)}`, isRecord(at) ? at[k] : undefined);
      }
      return;
    }
    if (Array.isArray(v) && Array.isArray(at) && v.length > 0 && v.every((i) => isRecord(i) && typeof i.name === 'string')) {
      for (const item of v as Array<Record<string, unknown>>) {
        const index = at.findIndex((s) => isRecord(s) && s.name === item.name);
        const selector = itemSelector(item, ['name']);
        if (index < 0 || selector === undefined) {
          add(toPointer(tokens), keyed);
          continue;
        }
        const { name: _name, ...rest } = item;
        walk(rest, [...tokens, String(index)], `${keyed}${selector}`, at[index]);
      }
      return;
    }
    if (isRecord(v) || tokens.length === 0) return;
    add(toPointer(tokens), keyed);
  };
  walk(patch, [], '', stored);
  return [...out.values()];
}

function cutAtList(pointer: string): string {
  const tokens = parsePointer(pointer);
  const i = tokens.findIndex((t) => /^\d+$/.test(t) || t === '-');
  return toPointer(i < 0 ? tokens : tokens.slice(0, i));
}

interface WebhookPatch {
  path: string;
  /** `-` (append): the item added at the end of the list at `path`. */
  append: boolean;
  configuration: string;
  webhook: string;
}

/** The JSON patches of the mutating webhooks, in the order they ran (round, then index). */
function webhookPatches(annotations: Record<string, string> | undefined): WebhookPatch[] {
  if (annotations === undefined) return [];
  const keyed: Array<{ round: number; index: number; patches: WebhookPatch[] }> = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(PATCH_ANNOTATION_PREFIX)) continue;
    const m = /^round_(\d+)_index_(\d+)$/.exec(key.slice(PATCH_ANNOTATION_PREFIX.length));
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      continue;
    }
    if (!isRecord(parsed) || !Array.isArray(parsed.patch)) continue;
    const configuration = typeof parsed.configuration === 'string' ? parsed.configuration : '';
    const webhook = typeof parsed.webhook === 'string' ? parsed.webhook : '';
    const patches: WebhookPatch[] = [];
    for (const op of parsed.patch) {
      if (!isRecord(op) || typeof op.path !== 'string' || op.op === 'test') continue;
      const append = op.path.endsWith('/-');
      patches.push({ path: append ? op.path.slice(0, -2) : op.path, append, configuration, webhook });
    }
    keyed.push({ round: m === null ? 0 : Number(m[1]), index: m === null ? 0 : Number(m[2]), patches });
  }
  keyed.sort((a, b) => a.round - b.round || a.index - b.index);
  return keyed.flatMap((k) => k.patches);
}

/** The webhook whose patch set this change (the last to touch it), if any. */
function setterOf(change: Change, patches: readonly WebhookPatch[]): WebhookPatch | undefined {
  let found: WebhookPatch | undefined;
  for (const p of patches) {
    if (p.append ? change.op === 'add' && isAtOrBelow(change.path, p.path) && change.path !== p.path : isAtOrBelow(change.path, p.path))
      found = p;
  }
  return found;
}

function queryParam(uri: string | undefined, name: string): string | undefined {
  if (uri === undefined) return undefined;
  const q = uri.indexOf('?');
  // Most request URIs carry no such parameter: no URLSearchParams for them.
  if (q < 0 || !uri.includes(name, q)) return undefined;
  return new URLSearchParams(uri.slice(q + 1)).get(name) ?? undefined;
}

/** The key of an object across events: group, resource, namespace, name. */
function objectKey(group: string, resource: string, namespace: string, name: string): string {
  return `${group}/${resource}/${namespace}/${name}`;
}

export class AuditConverter {
  private readonly states = new Map<string, ObjectState>();
  private readonly listKeys: ListKeyIndex;
  private readonly maxObjects: number;

  constructor(private readonly opts: ConverterOptions) {
    this.listKeys = opts.listKeys ?? builtinListKeys();
    this.maxObjects = opts.maxObjects ?? 100_000;
  }

  /** Objects whose state is kept now. */
  get objects(): number {
    return this.states.size;
  }

  convert(e: AuditEvent): Converted {
    if (e.stage !== 'ResponseComplete') return { kind: 'skip', reason: 'stage' };
    const verb = e.verb ?? '';
    if (verb === 'deletecollection') return { kind: 'skip', reason: 'collection' };
    const verbOperation = OPERATION[verb];
    if (verbOperation === undefined)
      return READ_VERBS.has(verb) || verb !== '' ? { kind: 'skip', reason: 'read' } : { kind: 'problem', problem: 'no verb' };
    const code = e.responseStatus?.code;
    if (typeof code !== 'number' || code < 200 || code > 299) return { kind: 'skip', reason: 'failed' };
    // A server-side apply (verb patch) or a PUT of an object that did not exist creates it: 201,
    // and admission saw a CREATE.
    const operation = code === 201 && verbOperation === 'UPDATE' ? 'CREATE' : verbOperation;
    if (queryParam(e.requestURI, 'dryRun') !== undefined) return { kind: 'skip', reason: 'dry-run' };
    const ref = e.objectRef;
    const resource = str(ref?.resource);
    if (ref === undefined || resource === undefined) return { kind: 'problem', problem: 'a write with no objectRef.resource' };
    const sub = str(ref.subresource);
    if (sub !== undefined && sub !== 'scale') return { kind: 'skip', reason: 'subresource' };
    const group = ref.apiGroup ?? '';
    const namespace = eventNamespace(e);
    const response = isRecord(e.responseObject) && e.responseObject.kind !== 'Status' ? e.responseObject : undefined;
    const name = str(ref.name) ?? str(isRecord(response?.metadata) ? response.metadata.name : undefined);
    if (name === undefined) return { kind: 'problem', problem: `a ${verb} of ${resource} with no object name` };
    const key = objectKey(group, resource, namespace, name);
    const prev = this.states.get(key);
    const builtin = builtinByResource(group, resource);
    const parentKind = (sub === undefined ? str(response?.kind) : undefined) ?? prev?.kind ?? builtin?.kind;
    if (parentKind === undefined) {
      return {
        kind: 'problem',
        problem: `an event for an unknown kind: ${resource}${group === '' ? '' : `.${group}`} is not a built-in resource and the event carries no object naming its kind (audit level below RequestResponse)`,
      };
    }
    const version = str(ref.apiVersion) ?? prev?.version ?? '';
    const secret = group === '' && resource === 'secrets';
    const user = effectiveUser(e);
    const rec: ChangeRecord = {
      schema: RECORD_SCHEMA,
      type: 'change',
      time: e.stageTimestamp ?? e.requestReceivedTimestamp ?? '',
      stage: 'final',
      correlation: `audit ${e.auditID ?? ''}`,
      actor: {
        username: user?.username ?? '',
        groups: Array.isArray(user?.groups) ? [...user.groups] : [],
        ...(str(user?.uid) === undefined ? {} : { uid: user!.uid! }),
      },
      actorClass: classifyActor(
        user === undefined ? undefined : { username: user.username ?? '', groups: user.groups ?? [] },
        this.opts.gitops,
      ),
      operation,
      resource: this.resourceOf(
        group,
        version,
        resource,
        sub,
        sub === 'scale' ? (str(response?.kind) ?? 'Scale') : parentKind,
        namespace,
        name,
      ),
      changes: [],
      uid: e.auditID ?? '',
      source: 'audit-log',
    };
    const fm = queryParam(e.requestURI, 'fieldManager');
    if (fm !== undefined && fm !== '') rec.fieldManager = fm;
    const prevRv = str(
      prev?.object.metadata !== undefined && isRecord(prev.object.metadata) ? prev.object.metadata.resourceVersion : undefined,
    );
    if (prevRv !== undefined && operation !== 'CREATE') rec.oldResourceVersion = prevRv;

    let changes: Change[];
    let truncated = false;
    let unknown = false;
    if (operation === 'DELETE') {
      changes = [{ path: '', op: 'remove' }];
      this.states.delete(key);
      const owner = prev === undefined ? undefined : gitOpsOwner(marksOf(prev.object)!);
      if (owner !== undefined) rec.owner = owner;
      const uid = str(ref.uid) ?? str(isRecord(prev?.object.metadata) ? prev.object.metadata.uid : undefined);
      if (uid !== undefined) rec.objectUid = uid;
    } else if (sub === 'scale') {
      ({ changes, unknown } = this.scale(key, prev, response));
      if (prev !== undefined) {
        const owner = gitOpsOwner(marksOf(prev.object)!);
        if (owner !== undefined) rec.owner = owner;
      }
    } else if (response === undefined) {
      // Level Metadata or Request: who wrote and when, not what. The state is unknown from here on.
      this.states.delete(key);
      changes = [];
      unknown = true;
    } else {
      const stored = secret ? withoutSecretValues(response) : response;
      const keys = this.listKeys.forKind(group, version, parentKind);
      if (operation === 'CREATE') ({ changes, truncated } = diff(undefined, stored, diffOptions(keys)));
      else if (prev !== undefined) ({ changes, truncated } = diff(prev.object, stored, diffOptions(keys)));
      else ({ changes, unknown } = this.firstSeen(e, verb, stored));
      this.remember(key, { object: stored, kind: parentKind, version });
      const owner = gitOpsOwner(marksOf(response)!);
      if (owner !== undefined) rec.owner = owner;
      const uid = str(isRecord(response.metadata) ? response.metadata.uid : undefined);
      if (uid !== undefined) rec.objectUid = uid;
      const digest = contentDigest(response as KubeObject, secret);
      if (digest !== undefined) rec.objectDigest = digest;
    }
    if (operation === 'UPDATE' && changes.length === 0 && !unknown && !truncated) return { kind: 'skip', reason: 'unchanged' };
    const patches = webhookPatches(e.annotations);
    const listed = changes.slice(0, MAX_CHANGES_PER_CHANGE_RECORD);
    rec.changes = listed.map((c) => recordChange(c, secret));
    const setBy: NonNullable<ChangeRecord['setByWebhook']> = [];
    for (const c of listed) {
      const p = patches.length === 0 ? undefined : setterOf(c, patches);
      if (p !== undefined) setBy.push({ path: c.path, configuration: p.configuration, webhook: p.webhook });
    }
    if (setBy.length > 0) rec.setByWebhook = setBy;
    const omitted = Math.max(0, changes.length - listed.length) + (truncated || unknown ? 1 : 0);
    if (omitted > 0) rec.changesOmitted = omitted;
    return { kind: 'change', record: rec };
  }

  private resourceOf(
    group: string,
    version: string,
    resource: string,
    sub: string | undefined,
    kind: string,
    namespace: string,
    name: string,
  ): RecordResource {
    const r: RecordResource = { group, version, resource, kind, name };
    if (sub !== undefined) r.subResource = sub;
    if (namespace !== '') r.namespace = namespace;
    return r;
  }

  /** A write through the scale subresource: its responseObject is a Scale, whose spec.replicas is the parent's. */
  private scale(
    key: string,
    prev: ObjectState | undefined,
    response: Record<string, unknown> | undefined,
  ): { changes: Change[]; unknown: boolean } {
    const replicas = isRecord(response?.spec) ? response.spec.replicas : undefined;
    if (typeof replicas !== 'number') return { changes: [], unknown: true };
    const before = prev === undefined ? undefined : valueAt(prev.object, '/spec/replicas');
    if (prev !== undefined) {
      const spec = isRecord(prev.object.spec) ? prev.object.spec : {};
      const metadata = isRecord(prev.object.metadata) ? prev.object.metadata : {};
      const rv = isRecord(response?.metadata) ? response.metadata.resourceVersion : undefined;
      this.remember(key, {
        ...prev,
        object: { ...prev.object, metadata: { ...metadata, resourceVersion: rv }, spec: { ...spec, replicas } },
      });
    }
    if (before?.found === true && before.value === replicas) return { changes: [], unknown: false };
    const c: Change =
      before?.found === true
        ? { path: '/spec/replicas', op: 'replace', old: before.value, new: replicas }
        : { path: '/spec/replicas', op: 'replace', new: replicas };
    return { changes: [c], unknown: false };
  }

  /**
   * An update of an object no earlier event showed: a patch names its fields (their values are
   * taken from the persisted object); a PUT sends the whole object, so what it changed cannot be
   * told, and the record lists nothing (`changesOmitted`). Either way the object is known from here on.
   */
  private firstSeen(e: AuditEvent, verb: string, stored: Record<string, unknown>): { changes: Change[]; unknown: boolean } {
    if (verb !== 'patch' || e.requestObject === undefined) return { changes: [], unknown: true };
    const changes: Change[] = [];
    for (const { path, keyed } of patchedPaths(e.requestObject, stored)) {
      if (
        path === '' ||
        isAtOrBelow(path, '/status') ||
        isAtOrBelow(path, '/metadata/managedFields') ||
        isAtOrBelow(path, '/metadata/resourceVersion')
      )
        continue;
      const v = valueAt(stored, path);
      const c: Change = v.found ? { path, op: 'replace', new: v.value } : { path, op: 'remove' };
      if (keyed !== undefined) c.keyed = keyed;
      changes.push(c);
    }
    return { changes, unknown: false };
  }

  private remember(key: string, state: ObjectState): void {
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.maxObjects) this.states.delete(this.states.keys().next().value!);
  }
}
