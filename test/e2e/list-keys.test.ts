/**
 * The keyed-list table against the real API server of the suite:
 * - src/k8s/list-keys.generated.ts is exactly what scripts/list-keys.ts makes from this server's
 *   /openapi/v3 (a Kubernetes upgrade that changes a list's keys fails here until it is regenerated);
 * - serve with a cluster reads custom resources' keyed lists from /openapi/v3 in the background and
 *   pairs their items by key.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildReview, user } from '../../src/admission/build.js';
import { KubeClient } from '../../src/cluster/kube.js';
import { generateListKeysSource, readBuiltinListKeys, type BuiltinListKeys } from '../../src/cluster/list-keys-source.js';
import { GENERATED_LIST_KEYS } from '../../src/k8s/list-keys.generated.js';
import { REPO } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { cluster, describeE2e, eventually, kubectlOk, serviceAccount } from './support/harness.js';

const GENERATED = path.join(REPO, 'src/k8s/list-keys.generated.ts');

describeE2e('the built-in list-key table', () => {
  let fresh: BuiltinListKeys;

  beforeAll(async () => {
    fresh = await readBuiltinListKeys(KubeClient.load(cluster().kubeconfigs.admin, { timeoutMs: 30_000 }));
  });

  it('is what the API server serves (regenerate: npm run list-keys -- --kubeconfig FILE)', () => {
    expect(GENERATED_LIST_KEYS.source).toEqual(fresh.source);
    expect(GENERATED_LIST_KEYS.groupVersions).toEqual(fresh.groupVersions);
    expect(GENERATED_LIST_KEYS.kinds).toEqual(fresh.kinds);
    expect(readFileSync(GENERATED, 'utf8')).toBe(generateListKeysSource(fresh));
  });

  it('holds the keys the issue names, as the server defines them', () => {
    const deploy = fresh.kinds['apps/v1/Deployment']!;
    expect(deploy['/spec/template/spec/containers']).toEqual(['name']);
    expect(deploy['/spec/template/spec/initContainers']).toEqual(['name']);
    expect(deploy['/spec/template/spec/containers/*/env']).toEqual(['name']);
    expect(deploy['/spec/template/spec/containers/*/ports']).toEqual(['containerPort', 'protocol']);
    expect(deploy['/spec/template/spec/containers/*/volumeMounts']).toEqual(['mountPath']);
    expect(deploy['/spec/template/spec/volumes']).toEqual(['name']);
    // Atomic lists are compared by index: tolerations, a container's args.
    expect(deploy['/spec/template/spec/tolerations']).toBeUndefined();
    expect(deploy['/spec/template/spec/containers/*/args']).toBeUndefined();
    expect(fresh.kinds['/v1/Service']!['/spec/ports']).toEqual(['port', 'protocol']);
  });
});

describeE2e('custom resources through /openapi/v3 (serve with a cluster)', () => {
  let dg: TestServer;
  const now = new Date('2026-11-24T09:00:00Z');

  beforeAll(async () => {
    await kubectlOk('admin', ['apply', '-f', path.join(REPO, 'test/e2e/fixtures/widgets-crd.yaml')]);
    await kubectlOk('admin', ['wait', '--for=condition=Established', '--timeout=60s', 'crd/widgets.e2e.driftguard.io']);
    // A service account bound to no role: /openapi/v3 is open to every authenticated user.
    const sa = await serviceAccount('e2e-list-keys', 'driftguard');
    dg = await startTestServer({
      policies: [path.join(REPO, 'test/e2e/fixtures/widget-policies')],
      config: { cluster: sa.kubeconfig, monitoring: { events: false } },
      now: () => now,
    });
  });
  /** The published OpenAPI of a new CRD can lag its Established condition by a moment. */
  const widgetKeys = () =>
    eventually(
      "the Widget's keys",
      async () => {
        if (dg.running.listKeys.forKind('e2e.driftguard.io', 'v1', 'Widget') === undefined) await dg.running.refreshListKeys();
        return dg.running.listKeys.forKind('e2e.driftguard.io', 'v1', 'Widget');
      },
      30_000,
    );
  afterAll(async () => {
    await dg?.close();
    await kubectlOk('admin', ['delete', '-f', path.join(REPO, 'test/e2e/fixtures/widgets-crd.yaml'), '--ignore-not-found']);
  });

  it('loads the keys of the CRD without a review waiting for it', async () => {
    const tree = await widgetKeys();
    expect(tree.fields?.get('spec')?.fields?.get('backends')?.keys).toEqual(['name']);
    expect(tree.fields?.get('spec')?.fields?.get('routes')?.keys).toEqual(['host', 'path']);
    expect(tree.fields?.get('spec')?.fields?.get('tags')).toBeUndefined();
    // Built-in group-versions are not fetched again: only the CRDs' ones are custom.
    expect(dg.running.listKeys.customKinds()).toBeGreaterThan(0);
    // The built-in kinds keep the generated table's keys beside them.
    const podSpec = dg.running.listKeys
      .forKind('apps', 'v1', 'Deployment')
      ?.fields?.get('spec')
      ?.fields?.get('template')
      ?.fields?.get('spec');
    expect(podSpec?.fields?.get('containers')?.keys).toEqual(['name']);
  });

  it('pairs a custom resource list by key: a backend inserted first is one addition', async () => {
    await widgetKeys();
    const old = {
      apiVersion: 'e2e.driftguard.io/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'default', resourceVersion: '7', labels: { team: 'shop' } },
      spec: {
        backends: [
          { name: 'a', weight: 1 },
          { name: 'b', weight: 2 },
        ],
        routes: [{ host: 'shop.example.com', path: '/', backend: 'a' }],
      },
    };
    const neu = structuredClone(old) as any;
    neu.spec.backends.unshift({ name: 'canary', weight: 5 });
    neu.spec.routes[0].backend = 'canary';
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: user('oidc:jane@example.com', ['system:authenticated']),
      object: neu,
      oldObject: old,
      resource: { group: 'e2e.driftguard.io', version: 'v1', resource: 'widgets' },
    });
    const res = await dg.review(review);
    expect(res.json.response.uid).toBe(review.request.uid);
    expect(res.json.response.allowed).toBe(false);
    const [violation] = dg.records().filter((r) => r.type === 'violation');
    expect(violation.changes.map((c: any) => `${c.op} ${c.keyed ?? c.path}`)).toEqual([
      'add /spec/backends[name=canary]/name',
      'add /spec/backends[name=canary]/weight',
      'replace /spec/routes[host=shop.example.com,path="/"]/backend',
    ]);
  });
});
