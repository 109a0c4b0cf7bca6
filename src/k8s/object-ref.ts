/**
 * The object a request targets: one shape, built from a request (`fromRequest`) or from a stored
 * record's resource (`fromRecord`), rendered for people by `describe` and told apart by `key`.
 * Its kind: a subresource request names the parent only by its resource (`deployments` +
 * subResource `scale`) while `kind` is the subresource's own (`Scale`), so Events, notifications
 * and the audit need the parent's kind back from the plural.
 */
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

/** What a record stores of the object (records/record.ts: resource); fromRecord reads it. */
export interface StoredResource {
  group: string;
  version: string;
  resource: string;
  subResource?: string | undefined;
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
  generateName?: string | undefined;
}

/** An object named on the command line (`deploy/web -n prod`): resource and name, no kind or version. */
export type ObjectQuery = Pick<ObjectRef, 'resource' | 'name'> & {
  /** API group when known ("apps"), or when the user qualified the kind (deployments.apps). */
  group?: string;
  /** Namespace; "" for a cluster-scoped resource. */
  namespace: string;
};

/** `Deployment` for `deployments/scale`; the request's own kind otherwise; the plural when unknown. */
export function targetKind(r: { group: string; resource: string; subResource?: string | undefined; kind: string }): string {
  if (r.subResource === undefined || r.subResource === '' || r.kind !== 'Scale') return r.kind;
  return builtinByResource(r.group, r.resource)?.kind ?? r.resource;
}

/** The request's name, else the object's, else its generateName with a `*`, else "". */
export function objectName(req: AdmissionRequest): string {
  if (typeof req.name === 'string' && req.name !== '') return req.name;
  const meta = (req.object ?? req.oldObject)?.metadata;
  if (typeof meta?.name === 'string' && meta.name !== '') return meta.name;
  if (typeof meta?.generateName === 'string' && meta.generateName !== '') return `${meta.generateName}*`;
  return '';
}

function nonEmpty(s: unknown): string | undefined {
  return typeof s === 'string' && s !== '' ? s : undefined;
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
export function fromRecord(r: StoredResource): ObjectRef {
  const kind = targetKind(r);
  const name = r.name ?? (r.generateName === undefined ? '' : `${r.generateName}*`);
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
  return q.namespace === '' ? `${kind}/${q.name}` : `${kind}/${q.name} in namespace ${q.namespace}`;
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
