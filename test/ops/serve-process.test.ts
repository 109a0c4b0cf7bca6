/**
 * The production build as a process, the way the Deployment runs it: `serve --kubeconfig` against a
 * local HTTPS server answering like the API server, and SIGTERM while a review is still in flight
 * (records on stdout, as with `--records -` in the cluster).
 */
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { VALIDATE_TIMEOUT_SECONDS } from '../../src/install/webhooks.js';
import { json, startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { edited, object } from '../support/fixtures.js';
import { postJson, request } from '../support/https.js';
import { jane } from '../support/identities.js';
import { spawnServe, type ServeProcess } from '../support/subprocess.js';
import { until } from '../support/wait.js';

const web = object('deployment-prod-web');
let api: FakeApiServer;

beforeAll(async () => {
  api = await startFakeApiServer();
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/web$/, (_req, res) =>
    json(res, 200, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'web', namespace: 'prod-shop', labels: web.metadata!.labels, annotations: web.metadata!.annotations },
    }),
  );
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/scratch$/, (_req, res) =>
    json(res, 200, {
      kind: 'PartialObjectMetadata',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { name: 'scratch', namespace: 'prod-shop', labels: { app: 'scratch' } },
    }),
  );
  // An API server that has stopped answering.
  api.route('GET', /^\/apis\/apps\/v1\/namespaces\/prod-shop\/deployments\/slow$/, () => undefined);
});
afterAll(async () => api.close());

/** `kubectl scale deployment NAME --replicas=N -n prod-shop` by a person. */
function scale(name: string, replicas: number) {
  const parent = edited(web, (o) => {
    o.metadata.name = name;
  });
  return buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    object: edited(parent, (o) => (o.spec.replicas = replicas)),
    oldObject: parent,
    subResource: 'scale',
  });
}

/** How many parent lookups of deployments/slow the API server has been sent (it answers none). */
function slowLookups(): number {
  return api.seen.filter((r) => r.method === 'GET' && r.path.split('?')[0]!.endsWith('/deployments/slow')).length;
}

function stdoutOf(proc: ServeProcess): () => string {
  let out = '';
  proc.child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  return () => out;
}

describe('serve --kubeconfig (a real process)', () => {
  let proc: ServeProcess;
  beforeAll(async () => {
    proc = await spawnServe(['--kubeconfig', api.kubeconfig]);
  });
  afterAll(async () => {
    proc.child.kill('SIGTERM');
    await proc.exited;
  });

  it('looks the Scale parent up with the kubeconfig credentials and judges by what the cluster says', async () => {
    const managed = await postJson(`${proc.url}/validate`, scale('web', 7), { ca: proc.ca });
    expect(managed.json.response).toMatchObject({ allowed: false, status: { code: 403 } });
    const unmanaged = await postJson(`${proc.url}/validate`, scale('scratch', 3), { ca: proc.ca });
    expect(unmanaged.json.response.allowed).toBe(true);
    const gets = api.seen.filter((s) => /deployments\/(web|scratch)$/.test(s.path));
    expect(gets.map((g) => g.path).sort()).toEqual([
      '/apis/apps/v1/namespaces/prod-shop/deployments/scratch',
      '/apis/apps/v1/namespaces/prod-shop/deployments/web',
    ]);
    for (const g of gets) {
      expect(g.method).toBe('GET');
      expect(g.headers.authorization).toBe(`Bearer ${api.token}`);
      expect(g.headers.accept).toContain('as=PartialObjectMetadata');
    }
  });

  it('answers within the webhook timeout when the API server hangs, falling back to `unresolved`', async () => {
    const started = performance.now();
    const r = await postJson(`${proc.url}/validate`, scale('slow', 4), { ca: proc.ca });
    const took = performance.now() - started;
    expect(r.status).toBe(200);
    expect(r.json.response).toMatchObject({ allowed: false }); // argocd-prod: unresolved: match
    expect(took).toBeLessThan(VALIDATE_TIMEOUT_SECONDS * 1000 * 0.6);
    expect(took).toBeGreaterThan(1_000); // it did wait for the cluster, up to the lookup timeout
  });
});

describe('SIGTERM with a review in flight (records on stdout, as in the cluster)', () => {
  it('stops taking connections, finishes the review, writes its record, and exits 0', async () => {
    const proc = await spawnServe(['--kubeconfig', api.kubeconfig, '--records', '-', '--log-level', 'info', '--shutdown-grace', '5000']);
    const stdout = stdoutOf(proc);
    const review = scale('slow', 6);
    const started = performance.now();
    const lookups = slowLookups();
    const inFlight = postJson(`${proc.url}/validate`, review, { ca: proc.ca });
    // In flight: driftguard is waiting on its parent lookup, which the API server never answers.
    await until(() => slowLookups() > lookups, 10_000, 'the parent lookup');
    proc.child.kill('SIGTERM');
    await until(() => proc.stderr().includes('"shutting down"'), 10_000, 'the shutdown to start');

    // The listener is closed: a probe (or a new review) cannot even connect.
    const probe = await request(`${proc.url}/readyz`, { ca: proc.ca, method: 'GET', timeoutMs: 2_000 }).then(
      (r) => `HTTP ${r.status}`,
      (err: NodeJS.ErrnoException) => err.code ?? err.message,
    );
    expect(probe).toBe('ECONNREFUSED');

    const answer = await inFlight;
    const answeredAfter = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.json.response).toMatchObject({ uid: review.request.uid, allowed: false });
    const exit = await proc.exited;
    const exitedAfter = performance.now() - started;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfter - answeredAfter).toBeLessThan(2_000);

    const records = stdout()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => r.uid)).toEqual([review.request.uid]);
    expect(records[0]).toMatchObject({ schema: 'driftguard.io/v2', decision: 'denied', policy: 'argocd-prod' });

    const log = proc.stderr();
    const order = ['"shutting down"', '"driftguard stopped; records flushed"'].map((m) => log.indexOf(m));
    expect(order[0]).toBeGreaterThanOrEqual(0);
    expect(order[1]).toBeGreaterThan(order[0]!);
  });
});

describe('SIGTERM with a review in flight on a keep-alive connection (how the API server calls)', () => {
  it('answers it with Connection: close and exits as soon as it is answered, not when the grace runs out', async () => {
    const graceMs = 8_000;
    const proc = await spawnServe(['--kubeconfig', api.kubeconfig, '--log-level', 'info', '--shutdown-grace', String(graceMs)]);
    const review = scale('slow', 5);
    const agent = new https.Agent({ keepAlive: true, ca: proc.ca });
    const lookups = slowLookups();
    const started = performance.now();
    const inFlight = new Promise<{ status: number; connection: string | undefined; body: any }>((resolve, reject) => {
      const req = https.request(
        `${proc.url}/validate`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(body) }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(review));
    });
    await until(() => slowLookups() > lookups, 10_000, 'the parent lookup');
    proc.child.kill('SIGTERM');
    const answer = await inFlight;
    const answeredAfter = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body.response.uid).toBe(review.request.uid);
    expect(answer.connection).toBe('close'); // the client will not send another review down this connection
    const exit = await proc.exited;
    agent.destroy();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(performance.now() - started - answeredAfter).toBeLessThan(2_000);
    expect(performance.now() - started).toBeLessThan(graceMs);
  });
});
