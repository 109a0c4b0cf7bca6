/** What the entry observer is sent (src/policy/observer-registration.ts) and what `manifests --observe` renders. */
import { describe, expect, it } from 'vitest';
import { observerRegistrationFor, policyObserves } from '../../src/policy/observer-registration.js';
import { registrationFor } from '../../src/policy/registration.js';
import { policySchema, type DriftPolicy } from '../../src/policy/schema.js';
import { OBSERVE_ENTRY_NAME, VALIDATING_NAME, webhookConfigurations } from '../../src/install/webhooks.js';
import { observeMode } from '../../src/cli/manifests.js';

function policy(name: string, extra: Record<string, unknown> = {}, match: Record<string, unknown> = {}): DriftPolicy {
  return policySchema.parse({
    apiVersion: 'driftguard.io/v1alpha1',
    kind: 'DriftPolicy',
    metadata: { name },
    spec: { match: { resources: [{ apiGroups: ['apps'], kinds: ['Deployment'] }], namespaces: [`${name}-*`], ...match }, ...extra },
  });
}

describe('the entry observer registration', () => {
  it('is the validating one without DELETE', () => {
    const ps = [policy('shop')];
    const v = registrationFor(ps);
    const o = observerRegistrationFor(ps);
    expect(v.rules.every((r) => r.operations.includes('DELETE'))).toBe(true);
    expect(o.rules).toEqual(v.rules.map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'] })));
    expect(o.matchConditions).toEqual(v.matchConditions);
  });

  it('leaves out the policies with observe: none, and a policy that only guards deletes', () => {
    const ps = [policy('shop'), policy('quiet', { observe: 'none' }), policy('nodelete', {}, { operations: ['DELETE'] })];
    const o = observerRegistrationFor(ps);
    const expression = o.matchConditions[0]?.expression ?? '';
    expect(expression).toContain("startsWith('shop-')");
    expect(expression).not.toContain('quiet-');
    expect(expression).not.toContain('nodelete-');
    expect(registrationFor(ps).matchConditions[0]?.expression).toContain("startsWith('quiet-')");
  });

  it('sends nothing when no policy observes, or the install says none', () => {
    expect(observerRegistrationFor([policy('quiet', { observe: 'none' })]).rules).toEqual([]);
    expect(observerRegistrationFor([policy('shop')], undefined, 'none').rules).toEqual([]);
    expect(policyObserves(policy('shop'))).toBe(true);
    expect(policyObserves(policy('shop'), 'none')).toBe(false);
  });

  it('defaults observe to full in the policy schema and refuses other values', () => {
    expect(policy('shop').spec.observe).toBe('full');
    expect(() => policy('shop', { observe: 'some' })).toThrow();
  });
});

describe('webhookConfigurations with observe', () => {
  const base = { service: 'driftguard', namespace: 'driftguard', registration: registrationFor([policy('shop')]) };

  it('full: the validating configuration and the entry observer, no exit observer', () => {
    const names = webhookConfigurations(base).map((c) => (c.metadata as { name: string }).name);
    expect(names).toEqual([VALIDATING_NAME, OBSERVE_ENTRY_NAME]);
  });

  it('none: the validating configuration alone', () => {
    const names = webhookConfigurations({ ...base, observe: 'none' }).map((c) => (c.metadata as { name: string }).name);
    expect(names).toEqual([VALIDATING_NAME]);
  });

  it('--observe takes full or none and names the flag otherwise', () => {
    expect(observeMode('none')).toBe('none');
    expect(() => observeMode('partial')).toThrow('--observe must be full or none, got partial');
  });
});
