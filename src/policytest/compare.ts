/** A case's expectation against what the handler answered: every way they differ, as data. */
import type { PolicyResult, PolicyStatus } from '../engine/evaluate.js';
import type { Expectation } from './suite.js';

export type Outcome = 'allowed' | 'denied' | 'warned';

/** What the handler answered, in the terms a case expects. */
export interface ActualOutcome {
  result: Outcome;
  message?: string;
  warnings: string[];
  policies: PolicyResult[];
  records: number;
}

/** An expectation as written, or taken from a captured review's response. */
export interface Expected extends Partial<Expectation> {
  result: Outcome;
  /** From a capture: the policies its answer named as violated (auditAnnotations.policies). */
  violated?: string[];
  /** Where the expectation came from. */
  from: 'suite' | 'capture';
}

export function outcomeOf(allowed: boolean, warnings: readonly string[]): Outcome {
  if (!allowed) return 'denied';
  return warnings.length > 0 ? 'warned' : 'allowed';
}

const CONSISTENT: Record<Outcome, ReadonlySet<PolicyStatus>> = {
  denied: new Set(['fail', 'error']),
  warned: new Set(['warn', 'breakglass', 'error']),
  allowed: new Set(['pass', 'audit']),
};

const VERB: Record<Outcome, string> = { denied: 'deny', warned: 'warn', allowed: 'allow' };

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every way `actual` differs from `expected`; empty when the case passes. */
export function compare(expected: Expected, actual: ActualOutcome): string[] {
  const out: string[] = [];
  if (expected.result !== actual.result) out.push(`result: expected ${expected.result}, got ${actual.result}`);
  const byName = new Map(actual.policies.map((p) => [p.policy, p]));
  if (expected.policy !== undefined) {
    const r = byName.get(expected.policy);
    if (r === undefined) out.push(`policy ${expected.policy}: not among the loaded policies (${[...byName.keys()].join(', ') || 'none'})`);
    else if (!CONSISTENT[expected.result].has(r.status))
      out.push(`policy ${expected.policy}: expected it to ${VERB[expected.result]}, its result was ${r.status} (${r.reason})`);
  }
  for (const [name, status] of Object.entries(expected.policies ?? {})) {
    const r = byName.get(name);
    if (r === undefined) out.push(`policies.${name}: not among the loaded policies`);
    else if (r.status !== status) out.push(`policies.${name}: expected ${status}, got ${r.status} (${r.reason})`);
  }
  for (const text of list(expected.messageContains)) {
    if (actual.message === undefined)
      out.push(`messageContains: expected a denial message containing ${JSON.stringify(text)}, got no message`);
    else if (!actual.message.includes(text)) out.push(`messageContains: ${JSON.stringify(text)} not in the message`);
  }
  for (const text of list(expected.warningContains)) {
    if (!actual.warnings.some((w) => w.includes(text)))
      out.push(`warningContains: no warning contains ${JSON.stringify(text)} (${actual.warnings.length} warning(s))`);
  }
  if (expected.records !== undefined && expected.records !== actual.records)
    out.push(`records: expected ${expected.records}, got ${actual.records}`);
  if (expected.violated !== undefined) {
    const got = actual.policies
      .filter((p) => p.status !== 'skip' && p.status !== 'pass')
      .map((p) => p.policy)
      .sort();
    if (got.join(',') !== expected.violated.join(','))
      out.push(`violated policies: expected [${expected.violated.join(', ')}], got [${got.join(', ')}]`);
  }
  return out;
}
