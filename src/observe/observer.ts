/**
 * The mutation observer: a mutating webhook that never mutates. Registered twice — first in the
 * mutating order (stage entry: what the requester sent) and last with reinvocationPolicy IfNeeded
 * (stage exit: the object after every other mutating webhook) — it appends a change record and
 * always answers allowed, without a patch, even when something inside fails: an observer must
 * never block the cluster.
 */
import { allowed } from '../admission/response.js';
import type { AdmissionRequest, AdmissionResponse } from '../k8s/admission.js';
import type { AdmissionDeps } from '../admission/handler.js';
import { evaluateRequest } from '../admission/evaluate-request.js';
import { recordChange } from '../ledger/write.js';

export type ObserverStage = 'entry' | 'exit';

export const OBSERVER_ROUTES: Readonly<Record<ObserverStage, string>> = { entry: '/observe/entry', exit: '/observe/exit' };

export async function observe(stage: ObserverStage, request: AdmissionRequest, deps: AdmissionDeps): Promise<AdmissionResponse> {
  try {
    // Dry runs (Argo CD diff, Flux's dry-run applies) leave no trace.
    if (request.dryRun !== true && request.operation !== 'CONNECT') {
      const { set, now, evaluation } = await evaluateRequest(request, deps, 'needed');
      recordChange(stage, request, evaluation, set, now, deps);
    }
  } catch (err) {
    deps.logger.error({ err: { message: (err as Error).message }, uid: request.uid, stage }, 'observer failed; answering allowed');
  }
  return allowed(request.uid);
}

/** The answer for a review the observer cannot read: allowed all the same (it echoes the uid). */
export function observerMalformed(uid: string): AdmissionResponse {
  return allowed(uid);
}
