/**
 * Untrusted JSON -> a typed AdmissionRequest, or a reason it is not one. Checks every field the
 * engine reads, so the engine never meets a wrong type (fuzzed in test/hardness).
 */
import type { HttpErrorCode } from '../errors.js';
import { ADMISSION_V1, ADMISSION_V1BETA1, type AdmissionApiVersion, type AdmissionRequest } from '../k8s/admission.js';

export type ParsedReview =
  | { ok: true; apiVersion: AdmissionApiVersion; request: AdmissionRequest }
  /** Not a review at all: answered with a plain HTTP 400 JSON error. */
  | { ok: false; kind: 'invalid'; code: HttpErrorCode; message: string }
  /** A review with a uid whose request is malformed: answered as a review (code 400) that echoes the uid. */
  | { ok: false; kind: 'malformed'; apiVersion: AdmissionApiVersion; uid: string; message: string };

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOptionalString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

function gvProblem(v: unknown, name: string, last: 'kind' | 'resource'): string | undefined {
  if (!isRecord(v)) return `${name} must be an object`;
  for (const k of ['group', 'version', last]) {
    if (typeof v[k] !== 'string') return `${name}.${k} must be a string`;
  }
  return undefined;
}

function requestProblem(r: Record<string, unknown>): string | undefined {
  if (typeof r.operation !== 'string' || !OPERATIONS.has(r.operation)) return 'request.operation must be CREATE, UPDATE, DELETE or CONNECT';
  const kind = gvProblem(r.kind, 'request.kind', 'kind') ?? gvProblem(r.resource, 'request.resource', 'resource');
  if (kind !== undefined) return kind;
  for (const k of ['subResource', 'name', 'namespace', 'requestSubResource']) {
    if (!isOptionalString(r[k])) return `request.${k} must be a string`;
  }
  const u = r.userInfo;
  if (!isRecord(u)) return 'request.userInfo must be an object';
  if (typeof u.username !== 'string') return 'request.userInfo.username must be a string';
  if (!isOptionalString(u.uid)) return 'request.userInfo.uid must be a string';
  if (u.groups !== undefined && u.groups !== null && !(Array.isArray(u.groups) && u.groups.every((g) => typeof g === 'string'))) {
    return 'request.userInfo.groups must be a list of strings';
  }
  for (const k of ['object', 'oldObject', 'options']) {
    if (r[k] !== undefined && r[k] !== null && !isRecord(r[k])) return `request.${k} must be an object or null`;
  }
  for (const k of ['object', 'oldObject']) {
    const meta = (r[k] as Record<string, unknown> | null | undefined)?.metadata;
    if (meta !== undefined && meta !== null && !isRecord(meta)) return `request.${k}.metadata must be an object`;
  }
  if (r.dryRun !== undefined && r.dryRun !== null && typeof r.dryRun !== 'boolean') return 'request.dryRun must be a boolean';
  return undefined;
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
  const problem = requestProblem(r);
  if (problem !== undefined) return { ok: false, kind: 'malformed', apiVersion, uid: r.uid, message: problem };
  const request = r as unknown as AdmissionRequest;
  // The API server sends null for absent objects; make that uniform for the engine.
  request.object ??= null;
  request.oldObject ??= null;
  request.options ??= null;
  return { ok: true, apiVersion, request };
}
