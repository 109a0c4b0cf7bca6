/**
 * The validating handler (controller-runtime Handler.Handle): a typed request in, a response out.
 * Knows nothing of HTTP; the server, `driftguard evaluate` and the tests all call it the same way.
 */
import type { Logger } from 'pino';
import type { ParentResolver } from '../cluster/parents.js';
import { classifyActor } from '../match/actors.js';
import { decide, type Decision } from '../engine/decision.js';
import { evaluate, isViolation, needsParentMarks, type Evaluation } from '../engine/evaluate.js';
import type { Hooks } from '../hooks/hooks.js';
import { recordChange } from '../ledger/write.js';
import type { PolicySet } from '../policy/set.js';
import { violationRecord } from '../records/schema.js';
import type { RecordSink } from '../records/sink.js';
import { allowed, denied } from './response.js';
import type { AdmissionRequest, AdmissionResponse } from '../k8s/admission.js';

export interface AdmissionDeps {
  /** The current policy snapshot (swapped atomically on reload). */
  policies: () => PolicySet;
  parents: ParentResolver;
  records: RecordSink;
  clock: () => Date;
  logger: Logger;
  hooks?: Hooks;
}

export interface ValidateOutcome {
  response: AdmissionResponse;
  evaluation: Evaluation;
  decision: Decision;
}

export async function validate(request: AdmissionRequest, deps: AdmissionDeps): Promise<ValidateOutcome> {
  const set = deps.policies();
  const parentMarks = needsParentMarks(set, request) ? await deps.parents.parentMarks(request) : undefined;
  const now = deps.clock();
  const started = process.hrtime.bigint();
  const evaluation = evaluate(set, { request, now: now.getTime(), ...(parentMarks === undefined ? {} : { parentMarks }) });
  const decision = decide(evaluation);
  const evaluationSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  // Dry runs are judged exactly like real requests but leave no trace (sideEffects: NoneOnDryRun).
  if (request.dryRun !== true) {
    const actorClass = classifyActor(request.userInfo, set.gitops);
    for (const result of evaluation.results) {
      if (!isViolation(result)) continue;
      deps.records.write(
        violationRecord({
          request,
          result,
          allowed: decision.allowed,
          actorClass,
          time: now,
          ...(evaluation.owner === undefined ? {} : { owner: evaluation.owner }),
        }),
      );
    }
    if (decision.allowed) {
      deps.parents.remember(request);
      // The change ledger's "final" stage: what will be persisted, for a covered object only.
      recordChange('final', request, evaluation, set, now, deps);
    }
  }
  try {
    deps.hooks?.onDecision?.({ request, evaluation, decision, evaluationSeconds });
  } catch (err) {
    // The records are written and the answer stands: a listener's failure is logged, never the request's.
    deps.logger.error({ err, hook: 'onDecision' }, 'a hook listener failed');
  }

  const extras = { warnings: decision.warnings, auditAnnotations: decision.auditAnnotations };
  const response = decision.allowed
    ? allowed(request.uid, extras)
    : denied(request.uid, decision.message ?? 'denied by driftguard', extras);
  return { response, evaluation, decision };
}
