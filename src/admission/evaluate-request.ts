/**
 * The sequence the validating handler and the observers share: the parent's marks a Scale
 * request needs, then the engine, at one reading of the clock.
 */
import type { ParentResolver } from '../cluster/parents.js';
import { evaluate, needsParentMarks, type Evaluation } from '../engine/evaluate.js';
import { isScale } from '../engine/request.js';
import type { AdmissionRequest } from '../k8s/admission.js';
import type { ListKeyIndex } from '../k8s/list-keys.js';
import type { PolicySet } from '../policy/set.js';

/** What evaluating a request needs (the handler's and the observer's AdmissionDeps hold it). */
export interface EvaluationDeps {
  /** The current policy snapshot (swapped atomically on reload). */
  policies: () => PolicySet;
  parents: ParentResolver;
  clock: () => Date;
  /** Keyed lists by kind (with a cluster: custom resources too, kept fresh off the request path); default: built-in kinds. */
  listKeys?: ListKeyIndex;
}

/**
 * Which parent marks a Scale request gets: `needed` asks for them (cache, then cluster) only when
 * a policy needs them; `needed-else-known` also takes what is already known of the parent (no
 * cluster request), so the owner is known as well.
 */
export type ParentMarksUse = 'needed' | 'needed-else-known';

export interface EvaluatedRequest {
  /** The policy snapshot the request was evaluated against. */
  set: PolicySet;
  now: Date;
  evaluation: Evaluation;
  /** process.hrtime.bigint() when the engine started (after any parent lookup). */
  engineStarted: bigint;
}

export async function evaluateRequest(request: AdmissionRequest, deps: EvaluationDeps, parents: ParentMarksUse): Promise<EvaluatedRequest> {
  const set = deps.policies();
  const parentMarks = needsParentMarks(set, request)
    ? await deps.parents.parentMarks(request)
    : parents === 'needed-else-known' && isScale(request)
      ? deps.parents.known(request)
      : undefined;
  const now = deps.clock();
  const engineStarted = process.hrtime.bigint();
  const evaluation = evaluate(set, {
    request,
    now: now.getTime(),
    ...(parentMarks === undefined ? {} : { parentMarks }),
    ...(deps.listKeys === undefined ? {} : { listKeys: deps.listKeys }),
  });
  return { set, now, evaluation, engineStarted };
}
