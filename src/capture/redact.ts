/**
 * A review made safe to keep on disk: Secret values and every last-applied annotation replaced by
 * keyed digests, and userInfo.extra reduced to the pod and node identity the API server adds
 * (credential ids, tokens and any other claims dropped).
 *
 * Digests rather than one fixed mask keep a replay faithful: equal values get equal tokens and
 * different values different ones, so the diff a replay sees has the same changes as the live
 * request. The key is random per process and never written, so a token reveals nothing, not even to
 * a dictionary attack on a weak password.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { AdmissionRequest, KubeObject, UserInfo } from '../k8s/admission.js';
import { isSecretRequest } from '../records/secrets.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The userInfo.extra keys kept: who and where, never how they authenticated. */
const KEPT_EXTRA = new Set([
  'authentication.kubernetes.io/pod-name',
  'authentication.kubernetes.io/pod-uid',
  'authentication.kubernetes.io/node-name',
  'authentication.kubernetes.io/node-uid',
]);

export const REDACTED_PREFIX = 'REDACTED:';

export interface Redactor {
  request(req: AdmissionRequest): { request: AdmissionRequest; redacted: string[] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function createRedactor(key: Buffer = randomBytes(32)): Redactor {
  const token = (value: unknown): string =>
    `${REDACTED_PREFIX}${createHmac('sha256', key)
      .update(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))
      .digest('hex')
      .slice(0, 16)}`;

  function object(obj: KubeObject | null, secret: boolean, at: string, redacted: string[]): KubeObject | null {
    if (obj === null || !isRecord(obj)) return obj;
    let out: KubeObject = obj;
    if (secret) {
      for (const field of ['data', 'stringData'] as const) {
        const m = obj[field];
        if (m === undefined) continue;
        const masked: Record<string, string> = {};
        if (isRecord(m)) for (const [k, v] of Object.entries(m)) masked[k] = token(v);
        out = { ...out, [field]: isRecord(m) ? masked : token(m) };
        redacted.push(`${at}/${field}`);
      }
    }
    const annotations = obj.metadata?.annotations;
    if (isRecord(annotations) && LAST_APPLIED in annotations) {
      out = { ...out, metadata: { ...out.metadata, annotations: { ...annotations, [LAST_APPLIED]: token(annotations[LAST_APPLIED]) } } };
      redacted.push(`${at}/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration`);
    }
    return out;
  }

  function userInfo(u: UserInfo, redacted: string[]): UserInfo {
    if (!isRecord(u.extra)) return u;
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(u.extra)) {
      if (KEPT_EXTRA.has(k)) extra[k] = v;
      else redacted.push(`userInfo/extra/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
    const { extra: _dropped, ...rest } = u;
    return Object.keys(extra).length === 0 ? rest : { ...rest, extra };
  }

  return {
    request(req) {
      const redacted: string[] = [];
      const secret = isSecretRequest(req);
      const out: AdmissionRequest = {
        ...req,
        userInfo: userInfo(req.userInfo, redacted),
        object: object(req.object, secret, 'object', redacted),
        oldObject: object(req.oldObject, secret, 'oldObject', redacted),
      };
      return { request: out, redacted };
    },
  };
}
