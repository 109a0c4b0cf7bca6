/**
 * The one set of response helpers (controller-runtime admission/response.go). Routes never build an
 * AdmissionReview response by hand.
 */
import type { AdmissionApiVersion, AdmissionResponse, AdmissionReviewResponse } from '../k8s/admission.js';

export interface ResponseExtras {
  warnings?: readonly string[];
  auditAnnotations?: Readonly<Record<string, string>>;
}

function withExtras(response: AdmissionResponse, extras: ResponseExtras): AdmissionResponse {
  if (extras.warnings !== undefined && extras.warnings.length > 0) response.warnings = [...extras.warnings];
  if (extras.auditAnnotations !== undefined && Object.keys(extras.auditAnnotations).length > 0) {
    response.auditAnnotations = { ...extras.auditAnnotations };
  }
  return response;
}

export function allowed(uid: string, extras: ResponseExtras = {}): AdmissionResponse {
  return withExtras({ uid, allowed: true }, extras);
}

export function denied(uid: string, message: string, extras: ResponseExtras = {}): AdmissionResponse {
  return withExtras({ uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } }, extras);
}

/** The request could not be judged: code 400 for a malformed request, 500 for our own failure. */
export function errored(uid: string, code: 400 | 500, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { code, reason: code === 400 ? 'BadRequest' : 'InternalError', message } };
}

export function review(apiVersion: AdmissionApiVersion, response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion, kind: 'AdmissionReview', response };
}
