/** The one table of built-in kinds, as its three users read it. */
import { describe, expect, it } from 'vitest';
import { targetKind } from '../../src/k8s/object-ref.js';
import { builtinByName, builtinByResource, KNOWN_KINDS } from '../../src/k8s/kinds.js';
import { parseTarget } from '../../src/ledger/target.js';

describe('built-in kinds', () => {
  it('finds a kind by plural, by kind in any case, and by kubectl short name', () => {
    for (const word of ['deploy', 'deployment', 'Deployment', 'deployments', 'DEPLOY'])
      expect(builtinByName(word)?.kind).toBe('Deployment');
    expect(builtinByName('netpol')).toMatchObject({ kind: 'NetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies' });
    expect(builtinByName('rollouts')).toBeUndefined();
  });

  it('gives a Scale request its parent kind, in the core group too, and the plural for custom resources', () => {
    expect(builtinByResource('apps', 'statefulsets')?.kind).toBe('StatefulSet');
    expect(targetKind({ group: '', resource: 'replicationcontrollers', subResource: 'scale', kind: 'Scale' })).toBe(
      'ReplicationController',
    );
    expect(targetKind({ group: 'argoproj.io', resource: 'rollouts', subResource: 'scale', kind: 'Scale' })).toBe('rollouts');
    expect(targetKind({ group: 'apps', resource: 'deployments', subResource: 'status', kind: 'Deployment' })).toBe('Deployment');
  });

  it('explain targets and lint read the same groups and scopes', () => {
    expect(parseTarget('sts/db', 'prod')).toEqual({ resource: 'statefulsets', group: 'apps', namespace: 'prod', name: 'db' });
    expect(parseTarget('ns/prod', undefined)).toEqual({ resource: 'namespaces', group: '', name: 'prod' });
    expect(KNOWN_KINDS.Namespace).toEqual({ group: '', resource: 'namespaces', clusterScoped: true });
    expect(KNOWN_KINDS.Deployment).toEqual({ group: 'apps', resource: 'deployments' });
  });
});
