/**
 * The registration derived from policies (src/policy/registration.ts), the coverage check
 * (src/policy/coverage.ts), the read-modify-write of --manage-webhooks (withRegistration) and
 * discovery's parsing, on policy documents as users write them. What the real API server makes of
 * the CEL is in test/e2e/registration.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseResourceList } from '../../src/cluster/discovery.js';
import { withRegistration } from '../../src/install/registration-sync.js';
import { coverageGaps } from '../../src/policy/coverage.js';
import { globToCel, registrationFor } from '../../src/policy/registration.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import type { DriftPolicy } from '../../src/policy/schema.js';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

function policy(name: string, match: string): DriftPolicy {
  const text = `apiVersion: driftguard.io/v1alpha1
kind: DriftPolicy
metadata: {name: ${name}}
spec:
  match:
${match
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
  allow: [{preset: argocd}]
`;
  const parsed = parsePolicyText(text, `${name}.yaml`);
  expect(parsed.diagnostics).toEqual([]);
  return parsed.policies[0]!.policy;
}

const prod = policy('prod', `resources: [{apiGroups: [apps], kinds: [Deployment, DaemonSet]}]\nnamespaces: ["prod-*"]`);
const ingress = policy('edge', `resources: [{apiGroups: [networking.k8s.io], kinds: [Ingress]}]\nnamespaces: [edge]`);
const rollout = policy(
  'rollouts',
  `resources: [{apiGroups: [argoproj.io], kinds: [Rollout], plurals: [rollouts]}]\nnamespaces: ["prod-*"]`,
);

const resourcesOf = (r: ReturnType<typeof registrationFor>) =>
  r.rules.flatMap((x) => x.apiGroups.map((g) => `${g || 'core'}:${x.resources.join(',')}`));

describe('rules from policies', () => {
  it('names each covered resource with the scale subresource where the kind has one, never status', () => {
    const r = registrationFor([prod, ingress, rollout]);
    expect(resourcesOf(r)).toEqual([
      'apps:daemonsets,deployments,deployments/scale',
      'argoproj.io:rollouts,rollouts/scale',
      'networking.k8s.io:ingresses',
    ]);
    expect(r.rules.flatMap((x) => x.resources).some((x) => x.endsWith('/status'))).toBe(false);
    expect(r.rules.every((x) => x.scope === 'Namespaced')).toBe(true);
    expect(r.unresolved).toEqual([]);
  });

  it('drops a kind with its last policy, and registers nothing for no policies', () => {
    expect(resourcesOf(registrationFor([prod, ingress]))).toContain('networking.k8s.io:ingresses');
    expect(resourcesOf(registrationFor([prod]))).toEqual(['apps:daemonsets,deployments,deployments/scale']);
    expect(registrationFor([])).toEqual({ rules: [], matchConditions: [], unresolved: [] });
  });

  it('unions operations per resource and keeps rules apart where they differ', () => {
    const deletes = policy('deletes', `resources: [{apiGroups: [""], kinds: [Secret]}]\noperations: [DELETE]`);
    const updates = policy('updates', `resources: [{apiGroups: [""], kinds: [Secret, ConfigMap]}]\noperations: [UPDATE]`);
    const r = registrationFor([deletes, updates]);
    expect(r.rules.map((x) => [x.resources.join(','), x.operations.join(',')])).toEqual([
      ['configmaps', 'UPDATE'],
      ['secrets', 'UPDATE,DELETE'],
    ]);
  });

  it('turns kind and group patterns into wildcards, and leaves cluster-scoped kinds out of a namespaced policy', () => {
    const all = policy('all', `resources: [{apiGroups: ["*"], kinds: ["*"]}]`);
    expect(registrationFor([all]).rules).toEqual([
      { apiGroups: ['*'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['*', '*/scale'], scope: '*' },
    ]);
    // Nothing restricts "all": no matchCondition.
    expect(registrationFor([all, prod]).matchConditions).toEqual([]);
    const ns = policy('ns', `resources: [{apiGroups: [""], kinds: [Namespace, ConfigMap]}]\nnamespaces: [a]`);
    expect(resourcesOf(registrationFor([ns]))).toEqual(['core:configmaps']);
  });

  it('guesses and reports a custom kind without plurals, and takes discovery’s answer when there is one', () => {
    const bare = policy('bare', `resources: [{apiGroups: [argoproj.io], kinds: [Rollout]}]`);
    const offline = registrationFor([bare]);
    expect(offline.unresolved).toEqual([{ policy: 'bare', group: 'argoproj.io', kind: 'Rollout', guessed: 'rollouts' }]);
    const served = registrationFor([bare], (g, k) =>
      g === 'argoproj.io' && k === 'Rollout' ? { resource: 'rollouts', namespaced: true, scale: false } : undefined,
    );
    expect(served.unresolved).toEqual([]);
    expect(served.rules).toEqual([
      {
        apiGroups: ['argoproj.io'],
        apiVersions: ['*'],
        operations: ['CREATE', 'UPDATE', 'DELETE'],
        resources: ['rollouts'],
        scope: 'Namespaced',
      },
    ]);
  });
});

describe('the matchCondition', () => {
  it('is one part per policy: its groups and resources, and its namespaces with the exclusions', () => {
    const excl = policy(
      'excl',
      `resources: [{apiGroups: [""], kinds: [ConfigMap]}]\nnamespaces: ["prod-*", "shop"]\nexcludeNamespaces: ["prod-sandbox"]`,
    );
    const [c] = registrationFor([excl, ingress]).matchConditions;
    expect(c!.name).toBe('driftguard-policies-cover');
    expect(c!.expression).toBe(
      "((request.resource.group == '' && request.resource.resource in ['configmaps']) && (request.namespace.startsWith('prod-') || request.namespace == 'shop') && !(request.namespace == 'prod-sandbox'))" +
        " || ((request.resource.group == 'networking.k8s.io' && request.resource.resource in ['ingresses']) && request.namespace == 'edge')",
    );
  });

  it('keeps cluster-scoped objects for a policy without namespaces, and skips its excluded namespaces only', () => {
    const wide = policy('wide', `resources: [{apiGroups: [""], kinds: [ConfigMap]}]\nexcludeNamespaces: ["tmp-*"]`);
    expect(registrationFor([wide]).matchConditions[0]!.expression).toBe(
      "(request.resource.group == '' && request.resource.resource in ['configmaps']) && (request.namespace == '' || !request.namespace.startsWith('tmp-'))",
    );
  });

  it('writes every glob shape the engine knows as CEL, quoting what CEL would read', () => {
    expect(globToCel('prod', 'n')).toBe("n == 'prod'");
    expect(globToCel('*', 'n')).toBe('true');
    expect(globToCel('*-system', 'n')).toBe("n.endsWith('-system')");
    expect(globToCel('a*z', 'n')).toBe("(n.size() >= 2 && n.startsWith('a') && n.endsWith('z'))");
    expect(globToCel('team-*-prod-*', 'n')).toBe("n.matches('^team-.*-prod-.*$')");
    expect(globToCel("it's", 'n')).toBe("n == 'it\\'s'");
  });
});

describe('the coverage check', () => {
  const webhookFor = (policies: DriftPolicy[]) => registrationFor(policies);

  it('finds nothing missing in the registration generated for the same policies, or for more of them', () => {
    expect(coverageGaps([prod, ingress], webhookFor([prod, ingress]))).toEqual([]);
    expect(coverageGaps([prod], webhookFor([prod, ingress, rollout]))).toEqual([]);
  });

  it('names each resource no rule sends, and each policy the matchConditions were not made for', () => {
    const gaps = coverageGaps([prod, ingress], webhookFor([prod]));
    expect(gaps.map((g) => `${g.policy} ${g.what}`)).toEqual(['edge networking.k8s.io/ingresses', 'edge namespaces']);
    expect(gaps[0]!.message).toContain('policy edge is never consulted');
  });

  it('counts a missing scale rule and a missing operation', () => {
    const noScale = {
      rules: [
        {
          apiGroups: ['apps'],
          apiVersions: ['v1'],
          operations: ['CREATE', 'UPDATE'],
          resources: ['deployments', 'daemonsets'],
          scope: 'Namespaced' as const,
        },
      ],
    };
    expect(coverageGaps([prod], noScale).map((g) => g.message)).toEqual([
      'no webhook rule sends apps/deployments (DELETE): policy prod is never consulted for it',
      'no webhook rule sends apps/deployments/scale (CREATE, UPDATE, DELETE): policy prod is never consulted for it',
      'no webhook rule sends apps/daemonsets (DELETE): policy prod is never consulted for it',
    ]);
    // The old registration (six resources, every namespace, no conditions) sends all of prod.
    const wildcard = { rules: [{ apiGroups: ['apps'], apiVersions: ['*'], operations: ['*'], resources: ['*/*'], scope: '*' as const }] };
    expect(coverageGaps([prod], wildcard)).toEqual([]);
  });
});

describe('--manage-webhooks read-modify-write', () => {
  const config = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'driftguard', resourceVersion: '42', labels: { team: 'platform' } },
    webhooks: [
      {
        name: 'validate.driftguard.io',
        clientConfig: { caBundle: 'Q0E=', url: 'https://127.0.0.1:1/validate' },
        rules: [{ operations: ['CREATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], scope: 'Namespaced' }],
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'driftguard'] }],
        },
        timeoutSeconds: 4,
      },
      { name: 'someone-else.example.com', rules: [] },
    ],
  };

  it('replaces only the rules and matchConditions of driftguard’s webhook, keeping the resourceVersion for the conflict check', () => {
    const want = registrationFor([prod, ingress]);
    const next = withRegistration(config, 'validate.driftguard.io', want)!;
    const [ours, theirs] = next.webhooks as Array<Record<string, unknown>>;
    expect(ours).toEqual({ ...config.webhooks[0], rules: want.rules, matchConditions: want.matchConditions });
    expect(theirs).toBe(config.webhooks[1]);
    expect(next.metadata).toBe(config.metadata);
  });

  it('writes nothing when the registration already follows the policies, whatever the key order', () => {
    const want = registrationFor([prod]);
    const current = withRegistration(config, 'validate.driftguard.io', want)!;
    // As the API server serves it back: operations first.
    const served = structuredClone(current) as any;
    served.webhooks[0].rules = served.webhooks[0].rules.map(({ operations, ...rest }: any) => ({ operations, ...rest }));
    served.webhooks[0].matchConditions = served.webhooks[0].matchConditions.map(({ name, expression }: any) => ({ expression, name }));
    expect(withRegistration(served, 'validate.driftguard.io', want)).toBeUndefined();
    // No conditions needed any more: the field goes.
    const all = registrationFor([policy('all', `resources: [{apiGroups: ["*"], kinds: ["*"]}]`)]);
    expect('matchConditions' in ((withRegistration(current, 'validate.driftguard.io', all)!.webhooks as any[])[0] as object)).toBe(false);
  });
});

describe('discovery', () => {
  it('reads kind, resource, scope and the scale subresource from an APIResourceList', () => {
    const kinds = parseResourceList({
      kind: 'APIResourceList',
      groupVersion: 'argoproj.io/v1alpha1',
      resources: [
        { name: 'rollouts', kind: 'Rollout', namespaced: true, verbs: ['get'] },
        { name: 'rollouts/scale', kind: 'Scale', group: 'autoscaling', version: 'v1', namespaced: true },
        { name: 'rollouts/status', kind: 'Rollout', namespaced: true },
        { name: 'clusteranalysistemplates', kind: 'ClusterAnalysisTemplate', namespaced: false },
      ],
    });
    expect(Object.fromEntries(kinds)).toEqual({
      Rollout: { resource: 'rollouts', namespaced: true, scale: true },
      ClusterAnalysisTemplate: { resource: 'clusteranalysistemplates', namespaced: false, scale: false },
    });
  });
});

describe('policy lint', () => {
  it('DGL012: a custom kind without plurals; DGL013: a registration file that misses a policy', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-registration-lint-'));
    writeFileSync(
      path.join(dir, 'rollouts.yaml'),
      'apiVersion: driftguard.io/v1alpha1\nkind: DriftPolicy\nmetadata: {name: rollouts}\nspec:\n  match:\n    resources:\n      - apiGroups: [argoproj.io]\n        kinds: [Rollout]\n  allow: [{preset: argocd}]\n',
    );
    const lint = await cli(['policy', 'lint', dir, '--webhooks', path.join(REPO, 'manifests/base/webhooks.yaml'), '-o', 'json']);
    expect(lint.code, lint.stderr).toBe(0);
    const found = JSON.parse(lint.stdout).diagnostics.map((d: any) => `${d.line}:${d.column} ${d.code} ${d.value}`);
    expect(found).toEqual([
      '6:5 DGL013 namespaces',
      '7:7 DGL013 argoproj.io/rollouts',
      '7:7 DGL013 argoproj.io/rollouts/scale',
      '8:17 DGL012 Rollout',
    ]);
    // The sample policies against the file generated from them: clean.
    const clean = await cli(['policy', 'lint', 'policies', '--webhooks', 'manifests/base/webhooks.yaml', '-o', 'json'], { cwd: REPO });
    expect(JSON.parse(clean.stdout).diagnostics.filter((d: any) => d.code === 'DGL013')).toEqual([]);
    const missing = await cli(['policy', 'lint', dir, '--webhooks', path.join(dir, 'rollouts.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('holds no ValidatingWebhookConfiguration driftguard');
  });
});
