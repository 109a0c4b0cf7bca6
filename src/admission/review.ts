/**
 * Untrusted JSON -> a typed AdmissionRequest, or a reason it is not one. The envelope (apiVersion,
 * kind, a request with a uid to echo) is checked here; the request by its schema (k8s/admission.ts),
 * which checks every field the engine reads, so the engine never meets a wrong type (fuzzed in
 * test/hardness).
 */
import type { HttpErrorCode } from '../errors.js';
import {
  ADMISSION_V1,
  ADMISSION_V1BETA1,
  admissionRequestSchema,
  type AdmissionApiVersion,
  type AdmissionRequest,
  type KubeObject,
} from '../k8s/admission.js';

export type ParsedReview =
  | { ok: true; apiVersion: AdmissionApiVersion; request: AdmissionRequest }
  /** Not a review at all: answered with a plain HTTP 400 JSON error. */
  | { ok: false; kind: 'invalid'; code: HttpErrorCode; message: string }
  /** A review with a uid whose request is malformed: answered as a review (code 400) that echoes the uid. */
  | { ok: false; kind: 'malformed'; apiVersion: AdmissionApiVersion; uid: string; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first problem zod found, as "request.<path> <clause>" (the clauses are in k8s/admission.ts). */
function problemOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'request is malformed';
  const at = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
  return `request${at} ${issue.message}`;
}

export function parseReview(body: unknown): ParsedReview {
  if (!isRecord(body))
    return { ok: false, kind: 'invalid', code: 'DG_REVIEW_INVALID', message: 'body must be a JSON object (an AdmissionReview)' };
  const apiVersion = body.apiVersion;
  if (apiVersion !== ADMISSION_V1 && apiVersion !== ADMISSION_V1BETA1) {
    return {
      ok: false,
      kind: 'invalid',
      code: 'DG_REVIEW_UNSUPPORTED_VERSION',
      message: `apiVersion must be ${ADMISSION_V1} or ${ADMISSION_V1BETA1}, got ${JSON.stringify(apiVersion) ?? 'nothing'}`,
    };
  }
  if (body.kind !== 'AdmissionReview')
    return { ok: false, kind: 'invalid', code: 'DG_REVIEW_INVALID', message: 'kind must be AdmissionReview' };
  const r = body.request;
  if (!isRecord(r)) return { ok: false, kind: 'invalid', code: 'DG_REVIEW_INVALID', message: 'AdmissionReview has no request' };
  if (typeof r.uid !== 'string' || r.uid === '')
    return { ok: false, kind: 'invalid', code: 'DG_REVIEW_INVALID', message: 'request.uid must be a non-empty string' };
  const parsed = admissionRequestSchema.safeParse(r);
  if (!parsed.success) return { ok: false, kind: 'malformed', apiVersion, uid: r.uid, message: problemOf(parsed.error.issues) };
  const request = parsed.data;
  // zod's output lists a schema's own members first (apiVersion before kind, metadata's checked
  // fields before the rest). The objects are kept as the API server sent them: their content
  // digests hash members in the order sent (records/digest.ts), and must equal the digests of the
  // same objects as the audit log has them (ledger/sources.ts). The schema checked them all the same.
  if (isRecord(r.object)) request.object = r.object as KubeObject;
  if (isRecord(r.oldObject)) request.oldObject = r.oldObject as KubeObject;
  return { ok: true, apiVersion, request };
}
