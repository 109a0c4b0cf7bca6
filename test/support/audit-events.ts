/**
 * audit.k8s.io/v1 events as the API server writes them at level RequestResponse (field order and
 * shapes of k8s.io/apiserver pkg/apis/audit/v1 Event; see docs/audit-log.md), for tests that write
 * audit log files into their temp dir.
 */
import type { KubeObject, UserInfo } from '../../src/k8s/admission.js';

export interface EventSpec {
  verb: 'create' | 'update' | 'patch' | 'delete' | 'get';
  user: UserInfo;
  impersonatedUser?: UserInfo;
  /** The object as persisted (responseObject); for a DELETE, the object deleted. */
  object?: KubeObject | Record<string, unknown>;
  requestObject?: unknown;
  code?: number;
  time: string;
  auditID: string;
  resource?: string;
  group?: string;
  version?: string;
  namespace?: string;
  /** A cluster-scoped object: no namespace in the URI (and none in objectRef, but for a Namespace's own writes). */
  clusterScoped?: boolean;
  name?: string;
  subresource?: string;
  fieldManager?: string;
  /** JSON patches of mutating webhooks: [configuration, webhook, patch]. */
  webhookPatches?: Array<[string, string, unknown[]]>;
  stage?: string;
  level?: string;
  apiVersion?: string;
}

export function auditEvent(s: EventSpec): Record<string, unknown> {
  const meta = (s.object as { metadata?: { name?: string; namespace?: string } } | undefined)?.metadata;
  const resource = s.resource ?? 'deployments';
  const group = s.group ?? 'apps';
  const namespace = s.namespace ?? meta?.namespace ?? 'prod-shop';
  const name = s.name ?? meta?.name ?? 'web';
  const api = group === '' ? `/api/${s.version ?? 'v1'}` : `/apis/${group}/${s.version ?? 'v1'}`;
  const base = s.clusterScoped === true ? `${api}/${resource}` : `${api}/namespaces/${namespace}/${resource}`;
  // The API server parses /api/v1/namespaces/NAME with NAME as the request's namespace, and the
  // event's objectRef takes it from there (k8s.io/apiserver pkg/endpoints/request/requestinfo.go).
  const refNamespace =
    s.clusterScoped !== true ? namespace : group === '' && resource === 'namespaces' && s.verb !== 'create' ? name : undefined;
  const uri = `${s.verb === 'create' ? base : `${base}/${name}${s.subresource === undefined ? '' : `/${s.subresource}`}`}${s.fieldManager === undefined ? '' : `?fieldManager=${s.fieldManager}`}`;
  const code = s.code ?? (s.verb === 'create' ? 201 : 200);
  const annotations: Record<string, string> = { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' };
  (s.webhookPatches ?? []).forEach(([configuration, webhook, patch], i) => {
    annotations[`mutation.webhook.admission.k8s.io/round_0_index_${i}`] = JSON.stringify({ configuration, webhook, mutated: true });
    annotations[`patch.webhook.admission.k8s.io/round_0_index_${i}`] = JSON.stringify({
      configuration,
      webhook,
      patch,
      patchType: 'JSONPatch',
    });
  });
  const ok = code >= 200 && code < 300;
  const event: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: s.apiVersion ?? 'audit.k8s.io/v1',
    level: s.level ?? 'RequestResponse',
    auditID: s.auditID,
    stage: s.stage ?? 'ResponseComplete',
    requestURI: uri,
    verb: s.verb,
    user: { username: s.user.username, groups: s.user.groups ?? [] },
    ...(s.impersonatedUser === undefined
      ? {}
      : { impersonatedUser: { username: s.impersonatedUser.username, groups: s.impersonatedUser.groups ?? [] } }),
    sourceIPs: ['127.0.0.1'],
    userAgent: 'kubectl/v1.37.2',
    objectRef: {
      resource,
      ...(refNamespace === undefined ? {} : { namespace: refNamespace }),
      name,
      apiGroup: group,
      apiVersion: s.version ?? 'v1',
      ...(s.subresource === undefined ? {} : { subresource: s.subresource }),
    },
    responseStatus: ok
      ? { metadata: {}, code }
      : { metadata: {}, status: 'Failure', reason: code === 409 ? 'Conflict' : 'Forbidden', code },
    ...(s.requestObject === undefined ? {} : { requestObject: s.requestObject }),
    ...(ok && s.object !== undefined ? { responseObject: s.object } : {}),
    requestReceivedTimestamp: s.time,
    stageTimestamp: s.time,
    annotations,
  };
  return event;
}

export function jsonLines(events: readonly Record<string, unknown>[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
