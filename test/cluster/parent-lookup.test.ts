/** Scale requests: the parent's labels come from a metadata-only GET through @kubernetes/client-node. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { edited, object } from '../support/fixtures.js';
import { startFakeApiServer, json, type FakeApiServer } from '../support/fake-apiserver.js';
import { jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';

let api: FakeApiServer;
let srv: TestServer;
const web = object('deployment-prod-web');

beforeAll(async () => {
  api = await startFakeApiServer();
  // A managed Deployment: answers PartialObjectMetadata as the API server does for that Accept header.
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/web$/, (_req, res) =>
    json(res, 200, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: {
        name: 'web',
        namespace: 'prod-shop',
        labels: web.metadata!.labels,
        annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:prod-shop/web' },
      },
    }),
  );
  // An unmanaged Deployment in prod: no tracking marks.
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/scratch$/, (_req, res) =>
    json(res, 200, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'scratch', namespace: 'prod-shop', labels: { app: 'scratch' } },
    }),
  );
  // A server that never answers for this one.
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/slow$/, () => undefined);
  srv = await startTestServer({ config: { cluster: api.kubeconfig } });
});

afterAll(async () => {
  await srv.close();
  await api.close();
});

const scale = (name: string, to: number) => {
  const parent = edited(web, (o) => {
    o.metadata.name = name;
  });
  return buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    object: edited(parent, (o) => (o.spec.replicas = to)),
    oldObject: parent,
    subResource: 'scale',
  });
};

describe('parent lookup for the scale subresource', () => {
  it('GETs only the metadata of the parent, with the kubeconfig credentials, and denies kubectl scale of a managed Deployment', async () => {
    const res = await srv.review(scale('web', 9));
    expect(res.json.response.allowed).toBe(false);
    const get = api.seen.find((s) => s.path === '/apis/apps/v1/namespaces/prod-shop/deployments/web');
    expect(get?.headers.accept).toContain('as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
    expect(get?.headers.authorization).toBe(`Bearer ${api.token}`);
    const rec = srv.records().find((r) => r.uid === res.json.response.uid);
    expect(rec.owner).toEqual({ tool: 'argocd', application: 'shop', source: 'tracking-id' });
  });

  it('caches what it learned: a second scale of the same Deployment makes no second GET', async () => {
    const before = api.seen.filter((s) => s.path.endsWith('/deployments/web')).length;
    const res = await srv.review(scale('web', 10));
    expect(res.json.response.allowed).toBe(false);
    expect(api.seen.filter((s) => s.path.endsWith('/deployments/web')).length).toBe(before);
  });

  it('allows kubectl scale of a Deployment the cluster shows is not GitOps-managed', async () => {
    const res = await srv.review(scale('scratch', 2));
    expect(res.json.response.allowed).toBe(true);
  });

  it('a parent that does not exist (404) leaves the labels unknown: unresolved: match denies', async () => {
    const res = await srv.review(scale('ghost', 2));
    expect(res.json.response.allowed).toBe(false);
    expect(api.seen.some((s) => s.path.endsWith('/deployments/ghost'))).toBe(true);
  });

  it('a cluster that does not answer cannot stall the decision: it falls back to unresolved within the lookup timeout', async () => {
    const started = Date.now();
    const res = await srv.review(scale('slow', 2));
    const took = Date.now() - started;
    expect(res.json.response.allowed).toBe(false);
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(4_000);
  });
});
