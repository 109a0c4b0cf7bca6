/** Naming the mutating webhooks behind fields that appeared between entry and exit (explain --kubeconfig). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/kube.js';
import {
  listMutatingWebhooks,
  matchingWebhooks,
  MUTATING_WEBHOOKS_PATH,
  parseWebhookList,
  ruleMatches,
} from '../../src/cluster/mutating-webhooks.js';
import type { KubeObject } from '../../src/k8s/admission.js';
import { json, startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { cli as runCli } from '../support/cli.js';
import { readJson } from '../support/fixtures.js';
import { argocdController } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { StoredObject } from '../support/stages.js';

const LIST = readJson('ledger', 'mutatingwebhookconfigurations.json');
const deploymentWrite = (operation: string, subResource?: string) => ({
  operation,
  resource: {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    namespace: 'shop-canary',
    ...(subResource === undefined ? {} : { subResource }),
  },
});

describe('webhook rules (admissionregistration.k8s.io/v1)', () => {
  const hooks = parseWebhookList(LIST);

  it("matches by operation, group, resource and subresource, and leaves driftguard's observers out", () => {
    expect(matchingWebhooks(hooks, deploymentWrite('UPDATE')).map((h) => h.name)).toEqual([
      'inject.sidecar.example.com',
      'labels.example.com',
    ]);
    expect(matchingWebhooks(hooks, deploymentWrite('UPDATE', 'scale')).map((h) => h.name)).toEqual([
      'labels.example.com',
      'scale-guard.example.com',
    ]);
    expect(matchingWebhooks(hooks, deploymentWrite('DELETE')).map((h) => h.name)).toEqual(['labels.example.com']);
  });

  it('"*" covers resources but not subresources; "R/*" and "*/S" cover subresources', () => {
    const rule = (resources: string[]) => ({ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources, scope: '*' });
    const main = deploymentWrite('UPDATE');
    const scale = deploymentWrite('UPDATE', 'scale');
    expect(ruleMatches(rule(['*']), main, 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['*']), scale, 'Equivalent')).toBe(false);
    expect(ruleMatches(rule(['deployments/*']), scale, 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['deployments/*']), main, 'Equivalent')).toBe(false);
    expect(ruleMatches(rule(['*/scale']), scale, 'Equivalent')).toBe(true);
    expect(ruleMatches(rule(['*/status']), scale, 'Equivalent')).toBe(false);
    expect(ruleMatches({ ...rule(['deployments']), scope: 'Cluster' }, main, 'Equivalent')).toBe(false);
  });

  it('matchPolicy Exact needs the version; Equivalent (the default) converts', () => {
    const r = { operations: ['UPDATE'], apiGroups: ['apps'], apiVersions: ['v1beta1'], resources: ['deployments'], scope: '*' };
    expect(ruleMatches(r, deploymentWrite('UPDATE'), 'Exact')).toBe(false);
    expect(ruleMatches(r, deploymentWrite('UPDATE'), 'Equivalent')).toBe(true);
  });
});

describe('explain --kubeconfig against a local API server', () => {
  let api: FakeApiServer;
  let replica: TestServer;

  beforeAll(async () => {
    api = await startFakeApiServer();
    api.route('GET', /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations$/, (_req, res) => json(res, 200, LIST));
    replica = await startTestServer();
    // Argo CD creates a Deployment in prod-shop (covered by the sample argocd-prod policy); the mesh injector adds a container.
    const now = new Date('2026-11-24T12:00:00Z');
    const story = new StoredObject(() => now);
    const manifest = readJson<KubeObject>('ledger', 'checkout-manifest.json');
    manifest.metadata!.namespace = 'prod-shop';
    const sidecar = readJson<{ container: object }>('ledger', 'sidecar.json');
    const s = story.write({
      operation: 'CREATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      sent: manifest,
      mutate: (o) => o.spec.template.spec.containers.push(structuredClone(sidecar.container)),
    });
    await replica.review(s.entry, '/observe/entry');
    await replica.review(s.exit, '/observe/exit');
    expect((await replica.review(s.final, '/validate')).json.response.allowed).toBe(true);
    await replica.close();
  });
  afterAll(async () => {
    await api?.close();
    await replica?.close();
  });

  it("lists the configurations through the kubeconfig's credentials", async () => {
    const hooks = await listMutatingWebhooks(KubeClient.load(api.kubeconfig, { timeoutMs: 2_000 }));
    expect(hooks.map((h) => `${h.configuration}/${h.name}`)).toContain('mesh-sidecar/inject.sidecar.example.com');
    const seen = api.seen.at(-1)!;
    expect([seen.method, seen.path, seen.headers.authorization]).toEqual(['GET', MUTATING_WEBHOOKS_PATH, `Bearer ${api.token}`]);
  });

  it('names the matching webhooks as the candidates for fields added between entry and exit', async () => {
    const res = await runCli([
      'explain',
      'deploy/checkout',
      '-n',
      'prod-shop',
      replica.recordsFile,
      '--kubeconfig',
      api.kubeconfig,
      '--field',
      '/spec/template/spec/containers/1',
      '-o',
      'json',
    ]);
    expect(res.stderr).toBe('');
    const fields = JSON.parse(res.stdout).fields;
    // --field by index selects what is at that index now; explain names each field by key.
    const sidecar = '/spec/template/spec/containers[name=mesh-proxy]';
    const port = `${sidecar}/ports[containerPort=15001,protocol=TCP]`;
    expect(fields.map((f: any) => f.path)).toEqual([
      `${sidecar}/image`,
      `${sidecar}/name`,
      `${port}/containerPort`,
      `${port}/name`,
      `${port}/protocol`,
    ]);
    expect(fields[0].pointer).toBe('/spec/template/spec/containers/1/image');
    for (const f of fields) {
      // The writer is the webhook, by configuration and name; the request's actor is requestedBy.
      expect(f.lastWriter).toMatchObject({
        kind: 'webhook',
        actorClass: 'webhook',
        webhooks: [
          { configuration: 'mesh-sidecar', webhook: 'inject.sidecar.example.com' },
          { configuration: 'team-labels', webhook: 'labels.example.com' },
        ],
        requestedBy: { username: argocdController().username, actorClass: 'gitops' },
      });
      expect(f.lastWriter).not.toHaveProperty('username');
    }
    const table = await runCli([
      'explain',
      'deploy/checkout',
      '-n',
      'prod-shop',
      replica.recordsFile,
      '--kubeconfig',
      api.kubeconfig,
      '--field',
      '/spec/template/spec/containers/1/name',
    ]);
    // The table says what the JSON says: both webhooks as configuration/webhook, the requester beside them.
    const row = table.stdout
      .split('\n')
      .find((l) => l.startsWith('/spec/template/spec/containers[name=mesh-proxy]/name '))!
      .split(/\s{3,}/);
    expect([row[2], row[3], row.at(-1)]).toEqual([
      'mutating webhook mesh-sidecar/inject.sidecar.example.com or team-labels/labels.example.com',
      'webhook',
      `WEBHOOK (requested by ${argocdController().username})`,
    ]);
  });

  it('offline, or when the cluster cannot be asked, says "mutating webhook (unknown)" and warns', async () => {
    const offline = await runCli([
      'explain',
      'deploy/checkout',
      '-n',
      'prod-shop',
      replica.recordsFile,
      '--field',
      '/spec/template/spec/containers/1/name',
    ]);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('mutating webhook (unknown)');

    const forbidden = await startFakeApiServer();
    forbidden.route('GET', /mutatingwebhookconfigurations$/, (_req, res) =>
      json(res, 403, { kind: 'Status', code: 403, message: 'mutatingwebhookconfigurations is forbidden: User "jane" cannot list' }),
    );
    try {
      const res = await runCli([
        'explain',
        'deploy/checkout',
        '-n',
        'prod-shop',
        replica.recordsFile,
        '--kubeconfig',
        forbidden.kubeconfig,
        '--field',
        '/spec/template/spec/containers/1/name',
      ]);
      expect(res.code).toBe(0);
      expect(res.stderr).toMatch(
        /^warning DG_CLUSTER_REQUEST: listing MutatingWebhookConfigurations answered 403: mutatingwebhookconfigurations is forbidden/,
      );
      expect(res.stdout).toContain('mutating webhook (unknown)');
    } finally {
      await forbidden.close();
    }
  });
});
