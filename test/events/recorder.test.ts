/**
 * Kubernetes Events against a local server that answers like the API server (POST and PATCH of
 * core/v1 Events), reached through KubeClient with a real kubeconfig: the token from the kubeconfig
 * must arrive, the objects must be what `kubectl describe` shows, and a failing or hanging API must
 * cost drops, never waiting.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { KubeClient } from '../../src/cluster/kube.js';
import { EventRecorder, type EventRecorderOptions } from '../../src/events/recorder.js';
import { edited, object } from '../support/fixtures.js';
import { startEventsApi, type EventsApi } from '../support/events-api.js';
import { jane, kubeadmAdmin, oncallBob } from '../support/identities.js';
import { countingMeter, signalsFor, until, type CountingMeter } from '../support/signals.js';
import { steady } from '../support/wait.js';

const web = () => object('deployment-prod-web');
const staging = () => object('deployment-staging-web');
const image = (tag: string) => (o: any) => {
  o.spec.template.spec.containers[0].image = `registry.example.com/shop/web:${tag}`;
};
const editBy = (who: any, tag = '2.0.0', obj = web()) =>
  buildReview({ operation: 'UPDATE', userInfo: who, object: edited(obj, image(tag)), oldObject: obj, fieldManager: 'kubectl-edit' });

let api: EventsApi;
let meter: CountingMeter;
let now: Date;
let recorder: EventRecorder | undefined;

function start(opts: Partial<EventRecorderOptions> = {}): EventRecorder {
  const client = KubeClient.load(api.kubeconfig, { timeoutMs: 1_000 });
  recorder = new EventRecorder({
    client,
    logger: pino({ level: 'silent' }),
    clock: () => now,
    meter,
    source: { component: 'driftguard', instance: 'driftguard-7d9c-abcde' },
    backoff: { baseMs: 10, maxMs: 20 },
    ...opts,
  });
  return recorder;
}

beforeEach(async () => {
  api = await startEventsApi();
  meter = countingMeter();
  now = new Date('2026-11-20T10:00:00Z');
});

afterEach(async () => {
  await recorder?.close(100);
  recorder = undefined;
  await api.close();
});

describe('Events on the target object', () => {
  it('creates a ManualEditDenied Event on the Deployment naming actor, fields and policy', async () => {
    const events = start();
    for (const s of await signalsFor(editBy(jane()))) events.record(s);
    await until(() => meter.sentCount === 1, 5_000, 'the Event');
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/v1/namespaces/prod-shop/events');
    expect(req.authorization).toBe(`Bearer ${api.api.token}`);
    const ev = req.body;
    expect(ev).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'prod-shop' },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-shop', name: 'web', uid: web().metadata!.uid },
      reason: 'ManualEditDenied',
      type: 'Warning',
      source: { component: 'driftguard' },
      reportingComponent: 'driftguard.io/driftguard',
      reportingInstance: 'driftguard-7d9c-abcde',
      count: 1,
      firstTimestamp: '2026-11-20T10:00:00Z',
      lastTimestamp: '2026-11-20T10:00:00Z',
    });
    expect(ev.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(ev.message).toContain('oidc:jane@example.com');
    expect(ev.message).toContain('/spec/template/spec/containers[name=web]/image');
    expect(ev.message).toContain('policy argocd-prod');
    expect(ev.message).toContain('Argo CD application shop');
  });

  it('puts a kubectl scale on the Deployment, not on its Scale', async () => {
    const events = start();
    const scale = buildReview({
      operation: 'UPDATE',
      subResource: 'scale',
      userInfo: jane(),
      object: edited(web(), (o) => (o.spec.replicas = 9)),
      oldObject: web(),
    });
    for (const s of await signalsFor(scale)) events.record(s);
    await until(() => meter.sentCount === 1);
    expect(api.requests[0]!.body.involvedObject).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'web',
      namespace: 'prod-shop',
    });
    expect(api.requests[0]!.body.message).toContain('/spec/replicas');
  });

  it('aggregates repeats of one actor into one Event with a count; another actor gets its own', async () => {
    const events = start();
    const first = await signalsFor(editBy(jane(), '2.0.0'));
    events.record(first[0]!);
    await until(() => meter.sentCount === 1);
    for (const tag of ['2.0.1', '2.0.2', '2.0.3']) {
      now = new Date(now.getTime() + 60_000);
      events.record((await signalsFor(editBy(jane(), tag)))[0]!);
    }
    events.record((await signalsFor(editBy(kubeadmAdmin())))[0]!);
    await until(
      () => events.pending === 0 && api.events.size === 2 && [...api.events.values()].some((e) => e.count === 4),
      5_000,
      'count 4',
    );
    const janes = [...api.events.values()].find((e) => e.message.includes('jane'));
    expect(janes).toMatchObject({ count: 4, firstTimestamp: '2026-11-20T10:00:00Z', lastTimestamp: '2026-11-20T10:03:00Z' });
    // Paths, never values.
    expect(janes.message).not.toContain('registry.example.com');
    const patches = api.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThanOrEqual(1);
    expect(
      patches.every(
        (p) => p.contentType === 'application/merge-patch+json' && p.path === `/api/v1/namespaces/prod-shop/events/${janes.metadata.name}`,
      ),
    ).toBe(true);
    expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  it('starts a new Event when the window has passed', async () => {
    const events = start({ windowMs: 5 * 60_000 });
    events.record((await signalsFor(editBy(jane())))[0]!);
    await until(() => meter.sentCount === 1);
    now = new Date(now.getTime() + 6 * 60_000);
    events.record((await signalsFor(editBy(jane())))[0]!);
    await until(() => meter.sentCount === 2);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(api.events.size).toBe(2);
  });

  it('reports drift let through as DriftObserved: warn mode and break-glass with its reason', async () => {
    const events = start();
    for (const s of await signalsFor(editBy(jane(), '3.0.0', staging()))) events.record(s);
    for (const s of await signalsFor(editBy(oncallBob()))) events.record(s);
    await until(() => meter.sentCount === 2);
    const byNs = Object.fromEntries(api.requests.map((r) => [r.body.metadata.namespace, r.body]));
    expect(byNs.staging).toMatchObject({
      reason: 'DriftObserved',
      action: 'Admitted',
      involvedObject: { kind: 'Deployment', name: 'web', namespace: 'staging' },
    });
    expect(byNs.staging.message).toMatch(
      /oidc:jane@example\.com drifted from Git: changed Deployment staging\/web .*\(policy staging-warn, warned\)/,
    );
    expect(byNs['prod-shop']).toMatchObject({ reason: 'DriftObserved' });
    expect(byNs['prod-shop'].message).toContain('used break-glass (INC-4711 hotfix while Git is frozen)');
  });

  it('sends nothing for a dry run', async () => {
    const review = editBy(jane());
    review.request.dryRun = true;
    expect(await signalsFor(review)).toEqual([]);
  });
});

describe('when the API server misbehaves', () => {
  it('retries a 500 a few times, then drops and counts it', async () => {
    api.mode = 'fail';
    const events = start({ maxAttempts: 3 });
    events.record((await signalsFor(editBy(jane())))[0]!);
    await until(() => meter.drops.failed === 1, 5_000, 'the drop');
    expect(api.requests).toHaveLength(3);
    expect(meter.sentCount).toBe(0);
  });

  it('does not retry what the API refuses (RBAC): one request, counted as rejected', async () => {
    api.mode = 'forbidden';
    const events = start();
    events.record((await signalsFor(editBy(jane())))[0]!);
    await until(() => meter.drops.rejected === 1);
    // No retry follows: the requests settle at one.
    expect(await steady(() => api.requests.length)).toBe(1);
  });

  it('recovers from a transient failure: the retry creates the Event', async () => {
    let calls = 0;
    api.mode = () => (++calls === 1 ? 'fail' : 'ok');
    const events = start();
    events.record((await signalsFor(editBy(jane())))[0]!);
    await until(() => meter.sentCount === 1);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(meter.drops).toEqual({});
  });

  it('a hanging API costs queue space and drops, never time: record() stays instant and shutdown is bounded', async () => {
    api.mode = 'hang';
    const events = start({ timeoutMs: 150, maxQueue: 10, maxAttempts: 1 });
    const signals = await Promise.all(
      Array.from({ length: 40 }, (_, i) => signalsFor(editBy(jane(), `9.${i}`, object('deployment-prod-web')))),
    );
    // 40 distinct objects: rename each so none aggregates with another.
    const distinct = signals.map((s, i) => ({ ...s[0]!, target: { ...s[0]!.target, name: `web-${i}` } }));
    const started = performance.now();
    for (const s of distinct) events.record(s);
    const recordMs = performance.now() - started;
    expect(recordMs).toBeLessThan(20);
    expect(meter.drops.queue_full).toBeGreaterThanOrEqual(29);
    await until(() => api.requests.length >= 2, 2_000, 'timed-out sends');
    const closing = performance.now();
    await events.close(200);
    expect(performance.now() - closing).toBeLessThan(500);
    const total = (meter.drops.queue_full ?? 0) + (meter.drops.failed ?? 0) + (meter.drops.shutdown ?? 0) + meter.sentCount;
    expect(meter.sentCount).toBe(0);
    expect(total).toBeGreaterThanOrEqual(39);
    recorder = undefined;
  });

  it('rate-limits its writes: a burst beyond the bucket waits for tokens', async () => {
    const events = start({ qps: 20, burst: 1 });
    const base = (await signalsFor(editBy(jane())))[0]!;
    for (let i = 0; i < 5; i++) events.record({ ...base, target: { ...base.target, name: `web-${i}` } });
    await until(() => meter.sentCount === 5);
    const span = api.requests[4]!.at - api.requests[0]!.at;
    // Four tokens at 20 per second: at least 200 ms between the first and the fifth write.
    expect(span).toBeGreaterThanOrEqual(180);
  });
});
