/**
 * The validating handler (controller-runtime Handler.Handle): a typed request in, a response out.
 * Knows nothing of HTTP; the server, `driftguard evaluate` and the tests all call it the same way.
 */
import type { Logger } from 'pino';
import { classifyActor } from '../match/actors.js';
import { decide, policyDecision, type Decision } from '../engine/decision.js';
import type { Evaluation } from '../engine/evaluate.js';
import type { Hooks } from '../hooks/hooks.js';
import { recordChange } from '../ledger/write.js';
import { violationRecord } from '../records/builders.js';
import type { RecordSink } from '../records/sink.js';
import { evaluateRequest, type EvaluationDeps } from './evaluate-request.js';
import { allowed, denied } from './response.js';
import type { AdmissionRequest, AdmissionResponse } from '../k8s/admission.js';

export interface AdmissionDeps extends EvaluationDeps {
  records: RecordSink;
  logger: Logger;
  hooks?: Hooks;
}

export interface ValidateOutcome {
  response: AdmissionResponse;
  evaluation: Evaluation;
  decision: Decision;
}

function flushRecords(deps: AdmissionDeps): void {
  try {
    deps.records.flush();
  } catch (err) {
    // The line stays buffered and goes with the next write; the answer is never held back.
    deps.logger.error({ err: { message: (err as Error).message } }, 'records could not be written now; kept for the next write');
  }
}

/** Sinks with a flush queued for the reviews being judged now. */
const flushQueued = new WeakSet<RecordSink>();

/**
 * Hand the violation records to the OS (one write(2)) before this review's answer is sent, and
 * with them those of every review judged in the same run of synchronous work (a turn's batch,
 * server/turn-batch.ts): a microtask, queued before validate's promise settles, so it runs before
 * any code awaiting the answer resumes.
 */
function flushBeforeAnswer(deps: AdmissionDeps): void {
  if (flushQueued.has(deps.records)) return;
  flushQueued.add(deps.records);
  queueMicrotask(() => {
    flushQueued.delete(deps.records);
    flushRecords(deps);
  });
}

export async function validate(request: AdmissionRequest, deps: AdmissionDeps): Promise<ValidateOutcome> {
  // A Scale's owner comes from its parent, as its coverage does: asked for when a policy needs the
  // marks, else what is already known of the parent (no cluster request).
  const { set, now, evaluation, engineStarted } = await evaluateRequest(request, deps, 'needed-else-known');
  const decision = decide(evaluation);
  const evaluationSeconds = Number(process.hrtime.bigint() - engineStarted) / 1e9;

  // Dry runs are judged exactly like real requests but leave no trace (sideEffects: NoneOnDryRun).
  if (request.dryRun !== true) {
    const actorClass = classifyActor(request.userInfo, set.gitops);
    let violations = 0;
    for (const result of evaluation.results) {
      const decided = policyDecision(result);
      if (decided === undefined) continue;
      violations++;
      deps.records.write(
        violationRecord({
          request,
          result,
          decision: decided,
          allowed: decision.allowed,
          actorClass,
          time: now,
          ...(evaluation.owner === undefined ? {} : { owner: evaluation.owner }),
        }),
      );
    }
    // A violation record reaches the file before its answer is sent: a process killed right after
    // answering loses no denial the user was told about. Change records stay batched.
    if (violations > 0) flushBeforeAnswer(deps);
    if (decision.allowed) {
      // The change ledger's "final" stage: what will be persisted, for a covered object only.
      recordChange('final', request, evaluation, set, now, deps);
    }
  }
  deps.parents.remember(request, decision.allowed);
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
