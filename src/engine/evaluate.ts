/**
 * The engine: one admission request against a policy set, results as data (Kyverno RuleResponse).
 * Pure and synchronous: no I/O, no clock (`now` is passed in), no exception escapes.
 */
import type { AdmissionRequest } from '../k8s/admission.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { ListKeyIndex } from '../k8s/list-keys.js';
import { isAtOrBelowKeyed } from '../match/keyed-path.js';
import { matchesPattern, selectPointers } from '../match/jsonpath.js';
import type { PolicySet } from '../policy/set.js';
import { firstMatch, isControlPlane } from '../match/actors.js';
import type { Change } from './diff.js';
import { argoTracked, fluxTracked, gitOpsOwner, type GitOpsOwner, type ObjectMarks } from '../k8s/owner.js';
import { isAtOrBelow, parsePointer } from '../match/pointer.js';
import { isScale, RequestFacts } from './request.js';

export type PolicyStatus = 'skip' | 'pass' | 'fail' | 'warn' | 'audit' | 'breakglass' | 'error';

export interface PolicyResult {
  policy: string;
  mode: CompiledPolicy['mode'];
  status: PolicyStatus;
  /** Why: for skip, which condition did not match; for pass, who or what allowed it; else the violation. */
  reason: string;
  /** The changes that violate the policy (fail, warn, audit, breakglass). */
  violations?: Change[];
  /** More changes existed than were inspected. */
  truncated?: boolean;
  breakGlass?: { reason: string; expires: string };
  /** A break-glass entry for this actor that has expired (the denial says so). */
  expiredBreakGlass?: { reason: string; expires: string };
  message?: string;
}

export interface EvaluationInput {
  request: AdmissionRequest;
  /** Labels and annotations of the parent of a Scale, when known (object cache or cluster). */
  parentMarks?: ObjectMarks;
  /** Milliseconds since the epoch, for break-glass expiry. */
  now: number;
  /** Keyed lists by kind (built-in kinds and, with a cluster, custom resources); default: the built-in table. */
  listKeys?: ListKeyIndex;
}

export interface Evaluation {
  results: PolicyResult[];
  facts: RequestFacts;
  owner?: GitOpsOwner;
}

/** Which policy would need the parent's labels for this request (so the caller can look them up first). */
export function needsParentMarks(set: PolicySet, request: AdmissionRequest): boolean {
  if (!isScale(request)) return false;
  const early = earlySkips(set.policies, request);
  return set.policies.some((p, i) => p.needsMarks && early[i] === undefined);
}

/** How a policy's match reads in an explanation; built once per policy, not per request. */
interface MatchTexts {
  operations: string;
  resources: string;
  namespaces: string;
}
const matchTexts = new WeakMap<CompiledPolicy, MatchTexts>();

function textsOf(p: CompiledPolicy): MatchTexts {
  let t = matchTexts.get(p);
  if (t === undefined) {
    t = {
      operations: [...p.operations].join(','),
      resources: p.resources.map((r) => r.text).join('; '),
      namespaces: (p.definition.spec.match.namespaces ?? []).join(','),
    };
    matchTexts.set(p, t);
  }
  return t;
}

/**
 * What coverageWithoutMarks depends on: operation, group, resource, kind, subresource, namespace.
 * Reviews of one cluster repeat few of these, so a policy set keeps, per tuple, every policy's
 * answer (a bounded memo: emptied when full); a request costs one string and one lookup instead of
 * the glob matches and a reason string built for every policy that skips it.
 */
function coverageKey(req: AdmissionRequest): string {
  const sub = typeof req.subResource === 'string' ? req.subResource : '';
  const ns = typeof req.namespace === 'string' ? req.namespace : '';
  // Each part after its length: no two tuples share a key, whatever characters a hostile review
  // puts in its names (a JSON array would too, at five times the cost: docs/performance.md,
  // "Figures the code's comments rely on").
  return `${lengthPrefixed(req.operation)}${lengthPrefixed(req.resource.group)}${lengthPrefixed(req.resource.resource)}${lengthPrefixed(req.kind.kind)}${lengthPrefixed(sub)}${ns}`;
}

/** `4:apps`, `11:deployments`; `-` for a part that is not a string (a parsed review always has strings). */
function lengthPrefixed(s: string): string {
  return typeof s === 'string' ? `${s.length}:${s}` : '-';
}

const MEMO_ENTRIES = 4096;
type EarlySkips = readonly (Readonly<PolicyResult> | undefined)[];
const coverageMemo = new WeakMap<readonly CompiledPolicy[], Map<string, EarlySkips>>();

/**
 * Per policy of the set (same order), its skip result when coverageWithoutMarks skips it (or its
 * error result, should it throw), else undefined. Such a result depends on nothing but the tuple,
 * so one frozen object serves every request of it (results are never changed once built).
 */
function earlySkips(policies: readonly CompiledPolicy[], req: AdmissionRequest): EarlySkips {
  let memo = coverageMemo.get(policies);
  if (memo === undefined) coverageMemo.set(policies, (memo = new Map()));
  const key = coverageKey(req);
  let skips = memo.get(key);
  if (skips === undefined) {
    skips = policies.map((p) => {
      let reason: string | undefined;
      try {
        reason = coverageWithoutMarks(p, req);
      } catch (err) {
        return Object.freeze(failed(p, err));
      }
      return reason === undefined ? undefined : Object.freeze<PolicyResult>({ policy: p.name, mode: p.mode, status: 'skip', reason });
    });
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, skips);
  }
  return skips;
}

/** The result of a policy whose evaluation threw: an error, which denies under enforce. */
function failed(p: CompiledPolicy, err: unknown): PolicyResult {
  return {
    policy: p.name,
    mode: p.mode,
    status: 'error',
    reason: `evaluation failed: ${err instanceof Error ? err.message : String(err)}`,
  };
}

/** Coverage checks that do not need labels; undefined = still in. */
function coverageWithoutMarks(p: CompiledPolicy, req: AdmissionRequest): string | undefined {
  if (!p.operations.has(req.operation as 'CREATE')) return `operation ${req.operation} not in ${textsOf(p).operations}`;
  const group = req.resource.group;
  const sub = typeof req.subResource === 'string' && req.subResource !== '';
  const hit = p.resources.some(
    (r) => r.group(group) && (sub ? r.plural(req.resource.resource) || r.kind(req.kind.kind) : r.kind(req.kind.kind)),
  );
  if (!hit) {
    const what = sub ? `${group || 'core'}/${req.resource.resource}/${req.subResource}` : `${group || 'core'}/${req.kind.kind}`;
    return `${what} not in resources ${textsOf(p).resources}`;
  }
  const ns = typeof req.namespace === 'string' ? req.namespace : '';
  if (p.namespaces !== undefined) {
    if (ns === '') return 'cluster-scoped object; the policy lists namespaces';
    if (!p.namespaces(ns)) return `namespace ${ns} not in ${textsOf(p).namespaces}`;
  }
  if (p.excludeNamespaces !== undefined && ns !== '' && p.excludeNamespaces(ns)) return `namespace ${ns} is excluded`;
  return undefined;
}

type Coverage = { readonly covered: boolean; readonly reason?: string };
// The outcomes without a request-specific reason are shared, not allocated per policy per request.
const COVERED: Coverage = { covered: true };
const UNRESOLVED_MATCH: Coverage = { covered: true, reason: 'labels of the parent are unknown (Scale); unresolved: match' };
const UNRESOLVED_SKIP: Coverage = { covered: false, reason: 'labels of the parent are unknown (Scale); unresolved: skip' };

/** Coverage by labels and tracking marks, once coverageWithoutMarks has let the request in. */
function coverageByMarks(p: CompiledPolicy, facts: RequestFacts): Coverage {
  if (!p.needsMarks) return COVERED;
  const marks = facts.marks;
  if (marks === undefined) return p.unresolved === 'match' ? UNRESOLVED_MATCH : UNRESOLVED_SKIP;
  if (p.selector !== undefined) {
    const miss = p.selector.mismatch(marks.labels);
    if (miss !== undefined) return { covered: false, reason: `selector requirement ${miss} not met` };
  }
  if (p.managedBy !== undefined) {
    const tracked = p.managedBy.some((tool) => (tool === 'argocd' ? argoTracked(marks) : fluxTracked(marks)));
    if (!tracked) return { covered: false, reason: `object carries no tracking mark of ${p.managedBy.join(' or ')}` };
  }
  return COVERED;
}

function remainingAfterExceptions(p: CompiledPolicy, facts: RequestFacts, changes: readonly Change[]): Change[] {
  const user = facts.request.userInfo;
  const pointers: string[] = [];
  const patterns: (readonly string[])[] = [];
  for (const e of p.exceptions) {
    if (e.actors !== undefined && firstMatch(e.actors, user) === undefined) continue;
    pointers.push(...e.pointers);
    for (const j of e.jsonPaths) {
      if (j.pattern !== undefined) patterns.push(j.pattern);
      else pointers.push(...selectPointers(j.expression, facts.request.object), ...selectPointers(j.expression, facts.request.oldObject));
    }
  }
  if (pointers.length === 0 && patterns.length === 0) return [...changes];
  // A pointer by index matches the item at that index now; a keyed path the item with that key.
  // A wildcard JSONPath matches the change's own path (the objects need no walk: see jsonpath.ts).
  return changes.filter((c) => {
    if (pointers.some((ptr) => isAtOrBelow(c.path, ptr) || (c.keyed !== undefined && isAtOrBelowKeyed(c.keyed, ptr)))) return false;
    if (patterns.length === 0) return true;
    const tokens = parsePointer(c.path);
    return !patterns.some((pattern) => matchesPattern(tokens, pattern));
  });
}

function evaluatePolicy(p: CompiledPolicy, facts: RequestFacts, now: number): PolicyResult {
  // Results are built as literals of one shape: object spread ({ ...base, ... }) was the engine's
  // hottest line (V8 clones through a slow path), for every skipped policy of every request.
  const result = (status: PolicyStatus, reason: string): PolicyResult => ({ policy: p.name, mode: p.mode, status, reason });
  const cov = coverageByMarks(p, facts);
  if (!cov.covered) return result('skip', cov.reason ?? 'not covered');
  const user = facts.request.userInfo;
  const allowedBy = firstMatch(p.allow, user);
  if (allowedBy !== undefined) return result('pass', `actor allowed by ${allowedBy.description}`);
  if (p.systemActors === 'allow' && isControlPlane(user)) return result('pass', 'control-plane actor (systemActors: allow)');

  const { changes, truncated } = facts.changes();
  const remaining = remainingAfterExceptions(p, facts, changes);
  if (remaining.length === 0 && !truncated) {
    return result(
      'pass',
      changes.length === 0 ? 'no drift: nothing but bookkeeping changed' : `no drift: all ${changes.length} changes are exempt`,
    );
  }
  let expiredNote = '';
  let expired: CompiledPolicy['breakGlass'][number] | undefined;
  let glass: CompiledPolicy['breakGlass'][number] | undefined;
  for (const bg of p.breakGlass) {
    if (firstMatch(bg.actors, user) === undefined) continue;
    if (bg.expiresAt > now) {
      glass = bg;
      break;
    }
    expiredNote = ` (break-glass expired ${bg.expires})`;
    expired = bg;
  }
  let violation: PolicyResult;
  if (glass !== undefined) {
    violation = result('breakglass', `break-glass: ${glass.reason}`);
  } else {
    const n = remaining.length + (truncated ? '+' : '');
    const coverageNote = cov.reason === undefined ? '' : ` (${cov.reason})`;
    violation = result(
      p.mode === 'enforce' ? 'fail' : p.mode,
      `${n} change(s) by an actor the policy does not allow${expiredNote}${coverageNote}`,
    );
  }
  violation.violations = remaining;
  if (truncated) violation.truncated = true;
  if (p.message !== undefined) violation.message = p.message;
  if (glass !== undefined) violation.breakGlass = { reason: glass.reason, expires: glass.expires };
  else if (expired !== undefined) violation.expiredBreakGlass = { reason: expired.reason, expires: expired.expires };
  return violation;
}

export function evaluate(set: PolicySet, input: EvaluationInput): Evaluation {
  const facts = new RequestFacts(input.request, input.parentMarks, input.listKeys);
  const results: PolicyResult[] = [];
  const policies = set.policies;
  const early = earlySkips(policies, input.request);
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i]!;
    const skip = early[i];
    if (skip !== undefined) {
      results.push(skip);
      continue;
    }
    try {
      results.push(evaluatePolicy(p, facts, input.now));
    } catch (err) {
      results.push(failed(p, err));
    }
  }
  const evaluation: Evaluation = { results, facts };
  if (facts.marks !== undefined) {
    const owner = gitOpsOwner(facts.marks);
    if (owner !== undefined) evaluation.owner = owner;
  }
  return evaluation;
}
