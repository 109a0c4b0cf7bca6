/**
 * Build an AdmissionReview the way the API server sends it (docs/kubernetes.md; docs/api-server.md
 * says how the end-to-end suite checks each fact against a real API server):
 * - every PATCH arrives as UPDATE with UpdateOptions{fieldManager}; CREATE with CreateOptions;
 * - a scale request carries autoscaling/v1 Scale objects whose metadata has no labels or annotations;
 * - a dry run sets request.dryRun and options.dryRun ["All"];
 * - absent object/oldObject/options are null; empty userInfo.uid/groups/extra are omitted;
 * - every call gets a fresh uid.
 * Used by `policy test` short forms and by the tests.
 */
import { randomUUID } from 'node:crypto';
import { serviceAccountUsername, SERVICE_ACCOUNT_PREFIX } from '../match/actors.js';
import { guessPlural } from '../k8s/kinds.js';
import type { AdmissionApiVersion, AdmissionReviewRequest, KubeObject, Operation, UserInfo } from '../k8s/admission.js';

/** A ServiceAccount as the API server presents it. */
export function serviceAccount(namespace: string, name: string, opts: { uid?: string } = {}): UserInfo {
  return {
    username: serviceAccountUsername(namespace, name),
    uid: opts.uid ?? randomUUID(),
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/** A person (or any non-ServiceAccount user); system:authenticated is always among the groups. */
export function user(username: string, groups: readonly string[] = []): UserInfo {
  const all = [...groups];
  if (!all.includes('system:authenticated')) all.push('system:authenticated');
  return { username, groups: all };
}

/** Parse "system:serviceaccount:NS:NAME" back into a ServiceAccount identity with its groups. */
export function userFromName(username: string, groups?: readonly string[]): UserInfo {
  if (username.startsWith(SERVICE_ACCOUNT_PREFIX) && groups === undefined) {
    const [ns, name] = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    if (ns && name) return serviceAccount(ns, name);
  }
  return user(username, groups ?? []);
}

export interface BuildOptions {
  operation: Operation;
  userInfo: UserInfo;
  /** The object being written (CREATE, UPDATE). */
  object?: KubeObject | null;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject | null;
  /** "scale" builds Scale objects from object/oldObject's spec.replicas; "status" passes the objects through. */
  subResource?: string;
  /** Omitted for kubectl scale, which sends none. */
  fieldManager?: string;
  /** `Strict` from the kubectl commands that validate what they send (edit, apply, create, replace). */
  fieldValidation?: 'Strict';
  /** A DELETE's propagation, when the client names one (kubectl always does: Background by default). */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  dryRun?: boolean;
  apiVersion?: AdmissionApiVersion;
  /** Override the group/version/plural derived from the object's apiVersion and kind. */
  resource?: { group: string; version: string; resource: string };
  /** The requested version when matchPolicy Equivalent converted the request. */
  requestKind?: { group: string; version: string; kind: string };
  uid?: string;
}

function groupVersion(apiVersion: string | undefined): { group: string; version: string } {
  const av = apiVersion ?? 'v1';
  const slash = av.indexOf('/');
  return slash < 0 ? { group: '', version: av } : { group: av.slice(0, slash), version: av.slice(slash + 1) };
}

/** The Scale the API server hands a webhook: identity metadata only, no labels, no annotations. */
export function scaleOf(obj: KubeObject): KubeObject {
  const m = obj.metadata ?? {};
  const meta: Record<string, unknown> = {};
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const) if (m[k] !== undefined) meta[k] = m[k];
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: meta,
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? spec.replicas ?? 0, selector },
  };
}

export function buildReview(opts: BuildOptions): AdmissionReviewRequest {
  const subject = opts.object ?? opts.oldObject;
  if (subject === null || subject === undefined) throw new Error('buildReview needs object or oldObject');
  const gv = groupVersion(subject.apiVersion);
  const kind = subject.kind ?? '';
  const resource = opts.resource ?? { ...gv, resource: guessPlural(kind) };
  const scale = opts.subResource === 'scale';
  let object = opts.object ?? null;
  let oldObject = opts.oldObject ?? null;
  if (scale) {
    object = object === null ? null : scaleOf(object);
    oldObject = oldObject === null ? null : scaleOf(oldObject);
  }
  const meta = subject.metadata ?? {};
  const options =
    opts.operation === 'DELETE'
      ? {
          kind: 'DeleteOptions',
          apiVersion: 'meta.k8s.io/v1',
          ...(opts.dryRun ? { dryRun: ['All'] } : {}),
          ...(opts.propagationPolicy === undefined ? {} : { propagationPolicy: opts.propagationPolicy }),
        }
      : opts.operation === 'CONNECT'
        ? null
        : {
            kind: opts.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions',
            apiVersion: 'meta.k8s.io/v1',
            ...(opts.dryRun ? { dryRun: ['All'] } : {}),
            ...(opts.fieldManager === undefined ? {} : { fieldManager: opts.fieldManager }),
            ...(opts.fieldValidation === undefined ? {} : { fieldValidation: opts.fieldValidation }),
          };
  const reqKind = scale ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { ...gv, kind };
  const request: AdmissionReviewRequest['request'] = {
    uid: opts.uid ?? randomUUID(),
    kind: reqKind,
    resource,
    requestKind: opts.requestKind ?? reqKind,
    requestResource: resource,
    ...(opts.subResource === undefined ? {} : { subResource: opts.subResource, requestSubResource: opts.subResource }),
    name: typeof meta.name === 'string' ? meta.name : '',
    operation: opts.operation,
    userInfo: opts.userInfo,
    object,
    oldObject,
    dryRun: opts.dryRun === true,
    options,
  };
  if (typeof meta.namespace === 'string' && meta.namespace !== '') request.namespace = meta.namespace;
  return { apiVersion: opts.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/**
 * How kubectl and the controllers make requests (docs/api-server.md, checked by the end-to-end
 * suite against a real API server): the field manager each sets, the subresource, the operation.
 * `kubectl scale` and the HPA send no field manager; rollout restart stamps
 * kubectl.kubernetes.io/restartedAt. The commands that validate the manifest they send (edit,
 * apply, create, replace) ask for `fieldValidation: Strict`; `kubectl delete` spells out its
 * default propagation, Background.
 */
export const REQUEST_STYLES = {
  'kubectl-edit': { fieldManager: 'kubectl-edit', fieldValidation: 'Strict' },
  'kubectl-patch': { fieldManager: 'kubectl-patch' },
  'kubectl-label': { fieldManager: 'kubectl-label' },
  'kubectl-annotate': { fieldManager: 'kubectl-annotate' },
  'kubectl-apply': { fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' },
  'kubectl-apply-server-side': { fieldManager: 'kubectl', fieldValidation: 'Strict', apply: true },
  'kubectl-rollout-restart': { fieldManager: 'kubectl-rollout', restart: true },
  'kubectl-set': { fieldManager: 'kubectl-set' },
  'kubectl-scale': { subResource: 'scale' },
  'kubectl-create': { fieldManager: 'kubectl-create', fieldValidation: 'Strict', operation: 'CREATE' },
  'kubectl-replace': { fieldManager: 'kubectl-replace', fieldValidation: 'Strict' },
  'kubectl-delete': { operation: 'DELETE', propagationPolicy: 'Background' },
  argocd: { fieldManager: 'argocd-controller' },
  flux: { fieldManager: 'kustomize-controller' },
  hpa: { subResource: 'scale' },
} as const satisfies Record<string, RequestStyleSpec>;

export type RequestStyle = keyof typeof REQUEST_STYLES;

export interface RequestStyleSpec {
  fieldManager?: string;
  fieldValidation?: 'Strict';
  propagationPolicy?: 'Background' | 'Foreground';
  subResource?: string;
  operation?: Operation;
  apply?: boolean;
  restart?: boolean;
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** kubectl rollout restart's change: the pod template's restartedAt annotation (RFC 3339, seconds). */
export function withRolloutRestart(obj: KubeObject, now: Date): KubeObject {
  const copy = structuredClone(obj) as KubeObject & { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
  copy.spec ??= {};
  copy.spec.template ??= {};
  copy.spec.template.metadata ??= {};
  copy.spec.template.metadata.annotations = {
    ...copy.spec.template.metadata.annotations,
    [RESTARTED_AT]: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return copy;
}

/**
 * The object a validating webhook sees for an UPDATE: the generation bumped when spec changed, and
 * managedFields already updated by the request's field manager.
 */
export function asUpdated(
  oldObject: KubeObject,
  next: KubeObject,
  opts: { fieldManager?: string; apply?: boolean; now: Date },
): KubeObject {
  const out = structuredClone(next);
  const meta = (out.metadata ??= {});
  if (typeof oldObject.metadata?.generation === 'number' && JSON.stringify(oldObject.spec) !== JSON.stringify(out.spec)) {
    meta.generation = oldObject.metadata.generation + 1;
  }
  if (opts.fieldManager !== undefined && Array.isArray(meta.managedFields)) {
    const operation = opts.apply === true ? 'Apply' : 'Update';
    const entries = (meta.managedFields as Array<Record<string, unknown>>).filter(
      (e) => !(e.manager === opts.fieldManager && e.operation === operation && e.subresource === undefined),
    );
    const previous = (meta.managedFields as Array<Record<string, unknown>>).find(
      (e) => e.manager === opts.fieldManager && e.operation === operation,
    );
    entries.push({
      manager: opts.fieldManager,
      operation,
      apiVersion: out.apiVersion,
      time: opts.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      fieldsType: 'FieldsV1',
      fieldsV1: previous?.fieldsV1 ?? {},
    });
    meta.managedFields = entries;
  }
  return out;
}
