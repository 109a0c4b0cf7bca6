/**
 * Does a webhook registration send what the policies cover? The gaps, as data: a resource a policy
 * covers that no rule sends (the policy is never consulted for it), and a policy whose namespaces
 * the registered matchConditions do not let through. Pure; `serve` runs it against the live
 * registration at start and on every reload, `policy lint --webhooks FILE` against a file.
 *
 * driftguard does not evaluate CEL: a matchCondition counts as letting a policy through when it is
 * the one `driftguard manifests` generates for that policy (registration.ts joins one part per
 * policy with `||`), so a registration generated for a superset of the policies has no gap, and a
 * condition written by hand is reported.
 */
import { COVERAGE_CONDITION, policyCondition, policyResources, type KindLookup, type WebhookRule } from './registration.js';
import type { DriftPolicy } from './schema.js';

export interface CoverageGap {
  policy: string;
  /** `group/resource` ("core" for ""), or "namespaces" for a matchCondition gap. */
  what: string;
  message: string;
}

/** The parts of a registered webhook the check reads. */
export interface RegisteredWebhook {
  rules?: ReadonlyArray<Partial<WebhookRule>>;
  matchConditions?: ReadonlyArray<{ name?: string; expression?: string }>;
}

function covers(list: readonly string[] | undefined, value: string): boolean {
  return (list ?? []).includes('*') || (list ?? []).includes(value);
}

/** admissionregistration/v1 resource semantics: "*" every resource, "R/*", "* /S", "* / *". */
function resourceCovered(patterns: readonly string[], needed: string): boolean {
  const [resource, sub] = needed.split('/') as [string, string | undefined];
  return patterns.some((p) => {
    if (p === '*/*') return true;
    const [r, s] = p.split('/') as [string, string | undefined];
    if (sub === undefined) return s === undefined && (r === '*' || r === resource);
    if (s === undefined) return false;
    return (r === '*' || r === resource) && (s === '*' || s === sub);
  });
}

function ruleSends(rule: Partial<WebhookRule>, group: string, resource: string, scope: WebhookRule['scope'], op: string): boolean {
  if (!covers(rule.operations, op) || !covers(rule.apiGroups, group)) return false;
  const ruleScope = rule.scope ?? '*';
  if (ruleScope !== '*' && ruleScope !== scope) return false;
  return resourceCovered(rule.resources ?? [], resource);
}

export function coverageGaps(policies: readonly DriftPolicy[], webhook: RegisteredWebhook, lookup?: KindLookup): CoverageGap[] {
  const gaps: CoverageGap[] = [];
  const conditions = webhook.matchConditions ?? [];
  const ours = conditions.length === 1 && conditions[0]!.name === COVERAGE_CONDITION ? (conditions[0]!.expression ?? '') : undefined;
  for (const policy of policies) {
    const name = policy.metadata.name;
    const operations = policy.spec.match.operations ?? ['CREATE', 'UPDATE', 'DELETE'];
    for (const n of policyResources(policy, lookup).needed) {
      const missing = operations.filter((op) => !(webhook.rules ?? []).some((r) => ruleSends(r, n.group, n.resource, n.scope, op)));
      if (missing.length === 0) continue;
      const what = `${n.group === '' ? 'core' : n.group}/${n.resource}`;
      gaps.push({
        policy: name,
        what,
        message: `no webhook rule sends ${what} (${missing.join(', ')}): policy ${name} is never consulted for it`,
      });
    }
    if (conditions.length === 0) continue;
    const part = policyCondition(policy, lookup);
    const letThrough = ours !== undefined && (ours === part || ours.includes(`(${part})`));
    if (!letThrough)
      gaps.push({
        policy: name,
        what: 'namespaces',
        message: `the registered matchConditions were not generated for policy ${name}: requests in the namespaces it covers may never be sent (regenerate with \`driftguard manifests --policies\`)`,
      });
  }
  return gaps;
}
