/**
 * The mutation observer: a mutating webhook that never mutates. Registered first in the mutating
 * order (stage entry: what the requester sent); the object after every other mutating webhook is
 * the validating call's (stage final). Installs from before registered it last too (stage exit),
 * and such calls are still recorded. It appends a change record and always answers allowed,
 * without a patch, even when something inside fails: an observer must never block the cluster.
 * Nothing is recorded with `serve --observe none`, nor for a write that only policies with
 * `observe: none` cover.
 */
import { allowed } from '../admission/response.js';
import type { AdmissionRequest, AdmissionResponse } from '../k8s/admission.js';
import type { AdmissionDeps } from '../admission/handler.js';
import { evaluateRequest } from '../admission/evaluate-request.js';
import { recordChange } from '../ledger/write.js';
import type { Evaluation } from '../engine/evaluate.js';
import type { PolicySet } from '../policy/set.js';
import type { ObserveMode } from '../policy/schema.js';

export type ObserverStage = 'entry' | 'exit';

export const OBSERVER_ROUTES: Readonly<Record<ObserverStage, string>> = { entry: '/observe/entry', exit: '/observe/exit' };

/** Some policy that covers the write observes it (`observe: full`, the default). */
function observedBy(set: PolicySet, evaluation: Evaluation): boolean {
  return evaluation.results.some(
    (r) => r.status !== 'skip' && set.policies.find((p) => p.name === r.policy)?.definition.spec.observe !== 'none',
  );
}

export async function observe(
  stage: ObserverStage,
  request: AdmissionRequest,
  deps: AdmissionDeps,
  install: ObserveMode = 'full',
): Promise<AdmissionResponse> {
  try {
    // Dry runs (Argo CD diff, Flux's dry-run applies) leave no trace.
    if (install === 'full' && request.dryRun !== true && request.operation !== 'CONNECT') {
      const { set, now, evaluation } = await evaluateRequest(request, deps, 'needed');
      if (observedBy(set, evaluation)) recordChange(stage, request, evaluation, set, now, deps);
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
