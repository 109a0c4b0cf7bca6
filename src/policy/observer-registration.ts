/**
 * What the entry observer (the change ledger's one mutating webhook) must be sent: only what the
 * ledger needs of it (docs/performance.md, "Webhook calls per write").
 *
 * - Only the policies with `observe: full` (the default), and none with an install-wide `none`
 *   (`serve --observe none`, `manifests --observe none`): a policy with `observe: none` is prevention
 *   alone, one webhook call per write.
 * - Only CREATE and UPDATE: the entry record is the "before the mutating webhooks" side of a write,
 *   and a DELETE's change is the whole object at every stage, so its entry record told nothing.
 *
 * The same derivation as the validating webhook's (registration.ts), on the narrowed policies.
 */
import { registrationFor, type KindLookup, type Registration } from './registration.js';
import type { DriftPolicy, ObserveMode } from './schema.js';

const OBSERVED_OPERATIONS = ['CREATE', 'UPDATE'] as const;

/** Whether this policy's covered writes go to the entry observer. */
export function policyObserves(policy: DriftPolicy, install: ObserveMode = 'full'): boolean {
  return install === 'full' && (policy.spec.observe ?? 'full') === 'full';
}

/** The policies narrowed to what the observer is sent: observed ones, CREATE and UPDATE only. */
function observedPolicies(policies: readonly DriftPolicy[], install: ObserveMode): DriftPolicy[] {
  const out: DriftPolicy[] = [];
  for (const p of policies) {
    if (!policyObserves(p, install)) continue;
    const operations = (p.spec.match.operations ?? OBSERVED_OPERATIONS).filter((op) =>
      (OBSERVED_OPERATIONS as readonly string[]).includes(op),
    );
    if (operations.length === 0) continue;
    out.push({ ...p, spec: { ...p.spec, match: { ...p.spec.match, operations } } });
  }
  return out;
}

/** The entry observer's rules and matchConditions; no rules at all when nothing is observed. */
export function observerRegistrationFor(
  policies: readonly DriftPolicy[],
  lookup?: KindLookup,
  install: ObserveMode = 'full',
): Registration {
  return registrationFor(observedPolicies(policies, install), lookup);
}
