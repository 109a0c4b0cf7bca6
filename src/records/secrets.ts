/**
 * Secret values never reach a log or a record: not a Secret's data or stringData, not its
 * last-applied annotation (which embeds them), not even inside a diff.
 */
import type { AdmissionRequest } from '../k8s/admission.js';
import type { Change } from '../engine/diff.js';
import { isAtOrBelow } from '../match/pointer.js';

export const REDACTED = '[REDACTED]';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const LAST_APPLIED_PATH = '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration';
const SECRET_VALUE_PATHS = ['/data', '/stringData', LAST_APPLIED_PATH];

export function isSecretRequest(req: AdmissionRequest): boolean {
  return (req.resource.group === '' && req.resource.resource === 'secrets') || (req.kind.group === '' && req.kind.kind === 'Secret');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A copy of (part of) an object with secret-bearing members masked. `at` is the pointer of `value`
 * within the object, so a change at "/metadata" or "" is sanitised as well as one at "/data/x".
 */
export function sanitizeValue(value: unknown, at: string, secret: boolean): unknown {
  if (secret && SECRET_VALUE_PATHS.some((p) => isAtOrBelow(at, p))) return REDACTED;
  if (!isRecord(value)) return value;
  if (at === '') {
    const out: Record<string, unknown> = { ...value };
    if (secret) {
      if ('data' in out) out.data = maskMap(out.data);
      if ('stringData' in out) out.stringData = maskMap(out.stringData);
    }
    if (isRecord(out.metadata)) out.metadata = sanitizeValue(out.metadata, '/metadata', secret);
    return out;
  }
  if (at === '/metadata' && isRecord(value.annotations)) {
    return { ...value, annotations: sanitizeValue(value.annotations, '/metadata/annotations', secret) };
  }
  if (at === '/metadata/annotations' && LAST_APPLIED in value) {
    return { ...value, [LAST_APPLIED]: REDACTED };
  }
  return value;
}

function maskMap(v: unknown): unknown {
  if (!isRecord(v)) return REDACTED;
  const out: Record<string, string> = {};
  for (const k of Object.keys(v)) out[k] = REDACTED;
  return out;
}

export function sanitizeChange(c: Change, secret: boolean): Change {
  const out: Change = { path: c.path, op: c.op };
  if ('old' in c) out.old = sanitizeValue(c.old, c.path, secret);
  if ('new' in c) out.new = sanitizeValue(c.new, c.path, secret);
  return out;
}
