/**
 * The Kubernetes API server's audit events (`audit.k8s.io/v1` Event, one JSON object a line as
 * `--audit-log-path` writes them, or the items of an EventList the webhook backend posts): the part
 * of the shape driftguard reads, and one line checked into an event or a problem that says what is
 * wrong with it. docs/audit-log.md lists the fields and where their meaning comes from. Pure.
 */

const AUDIT_API_VERSION = 'audit.k8s.io/v1';

export interface AuditUser {
  username?: string;
  uid?: string;
  groups?: string[];
}

interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiGroup?: string;
  apiVersion?: string;
  resourceVersion?: string;
  subresource?: string;
}

export interface AuditEvent {
  apiVersion: typeof AUDIT_API_VERSION;
  kind: 'Event';
  level?: string;
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: AuditUser;
  impersonatedUser?: AuditUser;
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus?: { code?: number; status?: string; reason?: string; message?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
}

export type ParsedAuditLine = { kind: 'event'; event: AuditEvent } | { kind: 'blank' } | { kind: 'problem'; problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One event checked: the fields the converter trusts have the types it needs. */
export function checkAuditEvent(value: unknown): { ok: true; event: AuditEvent } | { ok: false; problem: string } {
  if (!isRecord(value)) return { ok: false, problem: 'not a JSON object' };
  if (value.kind !== 'Event' || typeof value.apiVersion !== 'string' || !value.apiVersion.startsWith('audit.k8s.io/')) {
    return {
      ok: false,
      problem: `not an audit event (kind ${JSON.stringify(value.kind)}, apiVersion ${JSON.stringify(value.apiVersion)})`,
    };
  }
  if (value.apiVersion !== AUDIT_API_VERSION) {
    return {
      ok: false,
      problem: `audit event of ${value.apiVersion}: only ${AUDIT_API_VERSION} is read (set the API server's --audit-log-version / --audit-webhook-version to ${AUDIT_API_VERSION}, the default)`,
    };
  }
  for (const key of ['stage', 'verb', 'auditID', 'stageTimestamp', 'level'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') return { ok: false, problem: `${key} is not a string` };
  }
  for (const key of ['user', 'impersonatedUser', 'objectRef', 'responseStatus', 'annotations'] as const) {
    if (value[key] !== undefined && !isRecord(value[key])) return { ok: false, problem: `${key} is not an object` };
  }
  return { ok: true, event: value as unknown as AuditEvent };
}

/** One line of an audit log file. */
export function parseAuditLine(line: string): ParsedAuditLine {
  const text = line.trim();
  if (text === '') return { kind: 'blank' };
  if (!text.startsWith('{')) return { kind: 'problem', problem: 'not a JSON object' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      kind: 'problem',
      problem: text.endsWith('}') ? 'not valid JSON' : 'a truncated line (the JSON object does not end): the writer was cut off',
    };
  }
  const checked = checkAuditEvent(value);
  return checked.ok ? { kind: 'event', event: checked.event } : { kind: 'problem', problem: checked.problem };
}

/**
 * The namespace an event's object lives in ('' for a cluster-scoped one). A Namespace is
 * cluster-scoped, but a request to `/api/v1/namespaces/NAME` is parsed with NAME as its namespace
 * (k8s.io/apiserver `pkg/endpoints/request/requestinfo.go`), and the event's objectRef takes it
 * from there (`pkg/audit/request.go`): its update names itself as its namespace, its create does not.
 */
export function eventNamespace(e: AuditEvent): string {
  const ref = e.objectRef;
  if (ref === undefined) return '';
  if ((ref.apiGroup ?? '') === '' && ref.resource === 'namespaces') return '';
  return ref.namespace ?? '';
}

/** Who made the request as admission sees it: the impersonated user when there is one. */
export function effectiveUser(e: AuditEvent): AuditUser | undefined {
  return e.impersonatedUser ?? e.user;
}
