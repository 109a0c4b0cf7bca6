/**
 * The object a request targets: one shape (ObjectRef; a cluster-scoped object has no namespace),
 * built from a request (`fromRequest`) or from a stored record's resource (`fromRecord`, the
 * record schema's `resource`, declared here), rendered for people by `describe` and told apart by `key`.
 * An object named on the command line (ObjectQuery) and a parent fetched from the cluster are parts of it.
 * Its kind: a subresource request names the parent only by its resource (`deployments` +
 * subResource `scale`) while `kind` is the subresource's own (`Scale`), so Events, notifications
 * and the audit need the parent's kind back from the plural.
 */
import { z } from '../zod.js';
import type { AdmissionRequest } from './admission.js';
import { builtinByResource } from './kinds.js';

export interface ObjectRef {
  /** The object's API group and version: the parent's (apps/v1) for a Scale request (autoscaling/v1). */
  group: string;
  version: string;
  /** The plural resource the request named: "deployments". */
  resource: string;
  subResource?: string;
  /** The object's kind: `Deployment` for a deployments/scale request. */
  kind: string;
  /** The request's own kind where it is not the object's (`Scale`). */
  requestKind?: string;
  /** Absent for a cluster-scoped object. */
  namespace?: string;
  /** The name; `generateName*` for an object the API server has yet to name; "" when neither is known. */
  name: string;
  /** metadata.uid, once the API server has given the object one. */
  uid?: string;
}

/**
 * What a record stores of the object (the record schema's `resource`, records/record.ts): the
 * request's resource and kind as sent, and the name and generateName apart; fromRecord reads it.
 */
export const recordResourceSchema = z.object({
  group: z.string(),
  version: z.string(),
  resource: z.string(),
  subResource: z.optional(z.string()),
  kind: z.string(),
  namespace: z.optional(z.string()),
  name: z.optional(z.string()),
  generateName: z.optional(z.string()),
});
export type RecordResource = z.infer<typeof recordResourceSchema>;

/** An object named on the command line (`deploy/web -n prod`): resource, name and namespace, no kind or version. */
export type ObjectQuery = Pick<ObjectRef, 'resource' | 'name' | 'namespace'> & {
  /** API group when known ("apps"), or when the user qualified the kind (deployments.apps). */
  group?: string;
};

/** `Deployment` for `deployments/scale`; the request's own kind otherwise; the plural when unknown. */
export function targetKind(r: { group: string; resource: string; subResource?: string | undefined; kind: string }): string {
  if (r.subResource === undefined || r.subResource === '' || r.kind !== 'Scale') return r.kind;
  return builtinByResource(r.group, r.resource)?.kind ?? r.resource;
}

function nonEmpty(s: unknown): string | undefined {
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/** The names a request gives its object, worked out once: the request's name, else the object's; and the generateName it asked for. */
export function requestNames(req: AdmissionRequest): { name?: string; generateName?: string } {
  const meta = (req.object ?? req.oldObject)?.metadata;
  const name = nonEmpty(req.name) ?? nonEmpty(meta?.name);
  const generateName = nonEmpty(meta?.generateName);
  return { ...(name === undefined ? {} : { name }), ...(generateName === undefined ? {} : { generateName }) };
}

/** The name, else the generateName with a `*` (an object the API server has yet to name), else "". */
function displayName(n: { name?: string | undefined; generateName?: string | undefined }): string {
  return nonEmpty(n.name) ?? (nonEmpty(n.generateName) === undefined ? '' : `${n.generateName}*`);
}

/** The request's name, else the object's, else its generateName with a `*`, else "". */
function objectName(req: AdmissionRequest): string {
  return displayName(requestNames(req));
}

/** The object a request targets: the Deployment, not its Scale. */
export function fromRequest(req: AdmissionRequest): ObjectRef {
  const subResource = nonEmpty(req.subResource);
  const kind = targetKind({ group: req.resource.group, resource: req.resource.resource, subResource, kind: req.kind.kind });
  // A Scale's group/version is autoscaling/v1; the parent's is the resource's.
  const gv = kind === req.kind.kind ? req.kind : req.resource;
  const ref: ObjectRef = { group: gv.group, version: gv.version, resource: req.resource.resource, kind, name: objectName(req) };
  if (subResource !== undefined) ref.subResource = subResource;
  if (kind !== req.kind.kind) ref.requestKind = req.kind.kind;
  const namespace = nonEmpty(req.namespace);
  if (namespace !== undefined) ref.namespace = namespace;
  const uid = nonEmpty((req.object ?? req.oldObject)?.metadata?.uid);
  if (uid !== undefined) ref.uid = uid;
  return ref;
}

/** The object a record names (its resource as stored, schema unchanged). */
export function fromRecord(r: RecordResource): ObjectRef {
  const kind = targetKind(r);
  const name = displayName(r);
  const ref: ObjectRef = { group: r.group, version: r.version, resource: r.resource, kind, name };
  if (nonEmpty(r.subResource) !== undefined) ref.subResource = r.subResource!;
  if (kind !== r.kind) ref.requestKind = r.kind;
  if (nonEmpty(r.namespace) !== undefined) ref.namespace = r.namespace!;
  return ref;
}

/** `apps/v1`; `v1` for the core group. */
export function apiVersion(ref: Pick<ObjectRef, 'group' | 'version'>): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;
}

function namespaced(namespace: string | undefined, name: string): string {
  return `${namespace ? `${namespace}/` : ''}${name}`;
}

/** `Deployment prod-shop/web`: how Events, notifications and the audit name an object. */
export function describe(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${ref.kind} ${namespaced(ref.namespace, ref.name)}`;
}

/** `deployments/scale prod-shop/web`: what the request asked to change, as a denial names it. */
export function describeRequested(ref: ObjectRef): string {
  const kind =
    ref.requestKind === 'Scale' && ref.subResource !== undefined ? `${ref.resource}/${ref.subResource}` : (ref.requestKind ?? ref.kind);
  return `${kind} ${namespaced(ref.namespace, ref.name)}`;
}

/** `deployments.apps`: a resource as kubectl qualifies it; the plural alone in the core group. */
function qualified(resource: string, group: string | undefined): string {
  return group === undefined || group === '' ? resource : `${resource}.${group}`;
}

/** `deployments.apps/web in namespace prod`: how explain and history name the object they were asked about. */
export function describeQuery(q: ObjectQuery): string {
  const kind = qualified(q.resource, q.group);
  return q.namespace === undefined ? `${kind}/${q.name}` : `${kind}/${q.name} in namespace ${q.namespace}`;
}

/** `deployments.apps/web/scale`: what one history entry wrote to (`*` for a name not yet known). */
export function describeResource(ref: ObjectRef): string {
  const sub = ref.subResource === undefined ? '' : `/${ref.subResource}`;
  return `${qualified(ref.resource, ref.group)}/${ref.name === '' ? '*' : ref.name}${sub}`;
}

/** `apps/deployments/prod-shop/web`: one object, whatever version or subresource a request used. */
export function key(ref: Pick<ObjectRef, 'group' | 'resource' | 'name'> & { namespace?: string | undefined }): string {
  return `${ref.group}/${ref.resource}/${ref.namespace ?? ''}/${ref.name}`;
}
