/**
 * Appending change records: the one place that decides whether a stage of a write is recorded and
 * builds the record. Called by the validating handler (stage final, for admitted writes) and by the
 * observers (stages entry and exit). Never throws into the admission path.
 */
import type { Logger } from 'pino';
import type { AdmissionRequest } from '../k8s/admission.js';
import { classifyActor } from '../match/actors.js';
import type { Evaluation } from '../engine/evaluate.js';
import { ledgerChanges } from '../engine/ledger.js';
import type { PolicySet } from '../policy/set.js';
import { changeRecord } from '../records/builders.js';
import type { ChangeRecord, ChangeStage } from '../records/record.js';
import type { RecordSink } from '../records/sink.js';
import type { Hooks } from '../hooks/hooks.js';

export interface ChangeWriteDeps {
  records: RecordSink;
  logger: Logger;
  hooks?: Hooks;
}

/** A policy covers the object (some result is more than a skip). */
function isCovered(evaluation: Evaluation): boolean {
  return evaluation.results.some((r) => r.status !== 'skip');
}

function isStatusWrite(req: AdmissionRequest): boolean {
  return req.subResource === 'status';
}

/**
 * Record one stage of a write when it is a real (not dry-run) write to a covered object. An entry
 * record is written even when it holds no change, so that fields appearing only at exit can be
 * attributed to mutating webhooks; exit and final records are written only when something changed.
 * Status writes with no change leave nothing (controllers write status all day).
 */
export function recordChange(
  stage: ChangeStage,
  request: AdmissionRequest,
  evaluation: Evaluation,
  set: PolicySet,
  time: Date,
  deps: ChangeWriteDeps,
): ChangeRecord | undefined {
  if (request.dryRun === true || request.operation === 'CONNECT' || !isCovered(evaluation)) return undefined;
  const { changes, truncated } = ledgerChanges(request, evaluation.facts);
  if (changes.length === 0 && !truncated && (stage !== 'entry' || isStatusWrite(request))) return undefined;
  const record = changeRecord({
    request,
    stage,
    changes,
    truncated,
    actorClass: classifyActor(request.userInfo, set.gitops),
    time,
    ...(evaluation.owner === undefined ? {} : { owner: evaluation.owner }),
  });
  deps.records.write(record);
  try {
    deps.hooks?.onChangeRecord?.(record);
  } catch (err) {
    deps.logger.error({ err, hook: 'onChangeRecord' }, 'a hook listener failed');
  }
  return record;
}
