/**
 * Results -> what the API server is told (Kyverno webhooks/utils block.go and warning.go).
 * A deny wins; warnings are merged; every warning fits kubectl's 120-character line.
 */
import type { AdmissionRequest } from '../k8s/admission.js';
import type { Evaluation, PolicyResult } from './evaluate.js';
import { describeOwner, type GitOpsOwner } from '../k8s/owner.js';
import { describeRequested, fromRequest } from '../k8s/object-ref.js';
import { changeField, fieldList } from './field-list.js';

const MAX_FIELDS_IN_MESSAGE = 5;
export const MAX_WARNING_LENGTH = 120;

export interface Decision {
  allowed: boolean;
  /** Why it is denied; the response gives a denial code 403 (admission/response.ts). */
  message?: string;
  warnings: string[];
  auditAnnotations: Record<string, string>;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function violatedFields(r: PolicyResult, max = MAX_FIELDS_IN_MESSAGE): string {
  // By key where the field is in a keyed list: the person reading the denial knows containers by name.
  const truncated = r.truncated === true;
  return fieldList((r.violations ?? []).map(changeField), { max, omitted: truncated ? 1 : 0, rest: truncated ? 'unknown' : 'count' });
}

function denialText(r: PolicyResult, req: AdmissionRequest, owner: GitOpsOwner | undefined): string {
  if (r.status === 'error') return `policy ${r.policy} could not be evaluated (${r.reason}); denied to be safe`;
  const managed = owner === undefined ? '' : ` (managed by ${describeOwner(owner)})`;
  const verb = req.operation === 'DELETE' ? 'delete' : req.operation === 'CREATE' ? 'create' : 'change';
  const fields = req.operation === 'UPDATE' ? `: ${violatedFields(r)}` : '';
  const tail = r.message === undefined ? '' : `. ${r.message}`;
  const glass =
    r.expiredBreakGlass === undefined
      ? ''
      : `. Your break-glass entry ("${r.expiredBreakGlass.reason}") expired at ${r.expiredBreakGlass.expires}`;
  return `policy ${r.policy}: ${req.userInfo.username} may not ${verb} ${describeRequested(fromRequest(req))}${managed}${fields}${glass}${tail}`;
}

function warningText(r: PolicyResult, req: AdmissionRequest): string {
  if (r.status === 'breakglass') {
    return clip(`driftguard: break-glass (${r.policy}) by ${req.userInfo.username}: ${r.breakGlass?.reason ?? ''}`, MAX_WARNING_LENGTH);
  }
  if (r.status === 'error') return clip(`driftguard: policy ${r.policy} could not be evaluated`, MAX_WARNING_LENGTH);
  const fields = req.operation === 'UPDATE' ? violatedFields(r, 2) : `${req.operation} of the object`;
  return clip(`driftguard: ${r.policy} (warn): drift by ${req.userInfo.username}: ${fields}`, MAX_WARNING_LENGTH);
}

/** What one policy's result means, as every writer names it (records, Events, notifications, metrics). */
export const POLICY_DECISIONS = ['denied', 'warned', 'audited', 'break-glass'] as const;
export type PolicyDecision = (typeof POLICY_DECISIONS)[number];

/**
 * The one mapping from a policy's result to its decision; undefined for a policy that passed or
 * skipped. An evaluation error denies under enforce only: under warn or audit it is a warning.
 */
export function policyDecision(r: PolicyResult): PolicyDecision | undefined {
  switch (r.status) {
    case 'fail':
      return 'denied';
    case 'error':
      return r.mode === 'enforce' ? 'denied' : 'warned';
    case 'warn':
      return 'warned';
    case 'audit':
      return 'audited';
    case 'breakglass':
      return 'break-glass';
    default:
      return undefined;
  }
}

export function decide(evaluation: Evaluation): Decision {
  const req = evaluation.facts.request;
  const denials: PolicyResult[] = [];
  const warnings: string[] = [];
  const violated: string[] = [];
  let breakGlass: string | undefined;
  for (const r of evaluation.results) {
    const d = policyDecision(r);
    if (d === undefined) continue;
    if (d === 'denied') denials.push(r);
    else if (d !== 'audited') warnings.push(warningText(r, req));
    if (r.status === 'breakglass') breakGlass = r.breakGlass?.reason;
    violated.push(r.policy);
  }
  const auditAnnotations: Record<string, string> = {};
  if (violated.length > 0) {
    auditAnnotations.decision = denials.length > 0 ? 'denied' : 'allowed';
    auditAnnotations.policies = violated.join(',');
    if (breakGlass !== undefined) auditAnnotations['break-glass'] = clip(breakGlass, 256);
  }
  if (denials.length === 0) return { allowed: true, warnings, auditAnnotations };
  const message = `driftguard: ${denials.map((r) => denialText(r, req, evaluation.owner)).join('; ')}`;
  return { allowed: false, message, warnings, auditAnnotations };
}
