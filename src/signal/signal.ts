/**
 * What one admission decision means for the people watching: the request's outcome (for metrics)
 * and one drift signal per violated policy (for Events and notifications). Small values copied out
 * of the request, never the request itself: queues hold signals for seconds and must not pin
 * megabytes of objects. Field paths only, never values, so a Secret's data cannot leak. Pure.
 */
import type { Operation } from '../k8s/admission.js';
import { describe, fromRequest, type ObjectRef } from '../k8s/object-ref.js';
import { classifyActor, type ActorClass, type ActorMatcher } from '../match/actors.js';
import { policyDecision } from '../engine/decision.js';
import type { DecisionInfo } from '../hooks/hooks.js';
import { changeField, fieldList } from '../engine/field-list.js';
import { describeOwner, type GitOpsOwner } from '../k8s/owner.js';
import { fieldManager, recordActor } from '../records/builders.js';
import type { RecordActor, ViolationDecision } from '../records/record.js';

/** The request as a whole: the strongest outcome and the policy that produced it. */
export type RequestOutcome = 'allowed' | ViolationDecision;

const RANK: Record<RequestOutcome, number> = { allowed: 0, audited: 1, warned: 2, 'break-glass': 3, denied: 4 };

export function requestOutcome(info: Pick<DecisionInfo, 'evaluation' | 'decision'>): { outcome: RequestOutcome; policy: string } {
  let outcome: RequestOutcome = 'allowed';
  let policy = 'none';
  for (const r of info.evaluation.results) {
    const d = policyDecision(r);
    if (d !== undefined && RANK[d] > RANK[outcome]) {
      outcome = d;
      policy = r.policy;
    }
  }
  // The decision layer is the authority on allow/deny; the results only say which policy.
  if (!info.decision.allowed && outcome !== 'denied') outcome = 'denied';
  return { outcome, policy };
}

type SignalKind = 'denied' | 'break-glass' | 'drift';

export interface DriftSignal {
  kind: SignalKind;
  decision: ViolationDecision;
  time: string;
  policy: string;
  mode: string;
  actor: RecordActor;
  actorClass: ActorClass;
  operation: Operation;
  fieldManager?: string;
  /** The object: the Deployment, not its Scale. */
  target: ObjectRef;
  /** JSON Pointers of the changed fields, at most MAX_SIGNAL_FIELDS ("" = the whole object). */
  fields: string[];
  fieldsOmitted: number;
  owner?: GitOpsOwner;
  breakGlass?: { reason: string; expires: string };
  /** The policy's own message (where to make the change instead). */
  message?: string;
}

const MAX_SIGNAL_FIELDS = 20;

function signalKind(d: ViolationDecision): SignalKind {
  return d === 'denied' ? 'denied' : d === 'break-glass' ? 'break-glass' : 'drift';
}

/** One signal per violated policy; none for dry runs (sideEffects: NoneOnDryRun). */
export function signalsOf(
  info: Pick<DecisionInfo, 'request' | 'evaluation'>,
  now: Date,
  gitops: readonly ActorMatcher[] = [],
): DriftSignal[] {
  const req = info.request;
  if (req.dryRun === true) return [];
  const out: DriftSignal[] = [];
  let shared: Pick<DriftSignal, 'actor' | 'actorClass' | 'target'> | undefined;
  for (const r of info.evaluation.results) {
    const decision = policyDecision(r);
    if (decision === undefined) continue;
    shared ??= {
      actor: recordActor(req),
      actorClass: classifyActor(req.userInfo, gitops),
      target: fromRequest(req),
    };
    const paths = (r.violations ?? []).map(changeField);
    const s: DriftSignal = {
      kind: signalKind(decision),
      decision,
      time: now.toISOString(),
      policy: r.policy,
      mode: r.mode,
      ...shared,
      operation: req.operation,
      fields: paths.slice(0, MAX_SIGNAL_FIELDS),
      fieldsOmitted: Math.max(0, paths.length - MAX_SIGNAL_FIELDS) + (r.truncated === true ? 1 : 0),
    };
    const fm = fieldManager(req);
    if (fm !== undefined) s.fieldManager = fm;
    if (info.evaluation.owner !== undefined) s.owner = info.evaluation.owner;
    if (r.breakGlass !== undefined) s.breakGlass = r.breakGlass;
    if (r.message !== undefined) s.message = r.message;
    out.push(s);
  }
  return out;
}

/** Up to `max` field pointers, `(whole object)` for CREATE and DELETE, and how many more. */
export function describeFields(s: Pick<DriftSignal, 'fields' | 'fieldsOmitted'>, max = 5): string {
  return fieldList(s.fields, { max, omitted: s.fieldsOmitted });
}

const VERB: Record<Operation, string> = { CREATE: 'create', UPDATE: 'change', DELETE: 'delete', CONNECT: 'connect to' };

/** One sentence a person can act on: who, what, which fields, which policy, who owns the object. */
export function describeSignal(s: DriftSignal): string {
  const owner = s.owner === undefined ? '' : ` (managed by ${describeOwner(s.owner)})`;
  const fields = s.fields.length === 0 ? '' : `: ${describeFields(s)}`;
  const who = s.actor.username;
  const what = `${describe(s.target)}${owner}${fields}`;
  if (s.kind === 'denied') return `${who} was denied: may not ${VERB[s.operation]} ${what} (policy ${s.policy})`;
  if (s.kind === 'break-glass')
    return `${who} used break-glass (${s.breakGlass?.reason ?? 'no reason'}) to ${VERB[s.operation]} ${what} (policy ${s.policy})`;
  return `${who} drifted from Git: ${s.operation === 'UPDATE' ? 'changed' : s.operation === 'CREATE' ? 'created' : 'deleted'} ${what} (policy ${s.policy}, ${s.decision})`;
}
