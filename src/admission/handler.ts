/**
 * The validating handler (controller-runtime Handler.Handle): a typed request in, a response out.
 * Knows nothing of HTTP; the server, `driftguard evaluate` and the tests all call it the same way.
 */
import type { Logger } from 'pino';
import type { ParentResolver } from '../cluster/parents.js';
import { classifyActor } from '../match/actors.js';
import { decide, policyDecision, type Decision } from '../engine/decision.js';
import { evaluate, needsParentMarks, type Evaluation } from '../engine/evaluate.js';
import { isScale } from '../engine/request.js';
import type { Hooks } from '../hooks/hooks.js';
import type { ListKeyIndex } from '../k8s/list-keys.js';
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
  /** Keyed lists by kind (with a cluster: custom resources too, kept fresh off the request path); default: built-in kinds. */
  listKeys?: ListKeyIndex;
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
  const set = deps.policies();
  // A Scale's owner comes from its parent, as its coverage does: asked for when a policy needs the
  // marks, else what is already known of the parent (no cluster request).
  const parentMarks = needsParentMarks(set, request)
    ? await deps.parents.parentMarks(request)
    : isScale(request)
      ? deps.parents.known(request)
      : undefined;
  const now = deps.clock();
  const started = process.hrtime.bigint();
  const evaluation = evaluate(set, {
    request,
    now: now.getTime(),
    ...(parentMarks === undefined ? {} : { parentMarks }),
    ...(deps.listKeys === undefined ? {} : { listKeys: deps.listKeys }),
  });
  const decision = decide(evaluation);
  const evaluationSeconds = Number(process.hrtime.bigint() - started) / 1e9;

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
