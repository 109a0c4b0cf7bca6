/**
 * Events from the running server, configured with a kubeconfig like `serve --kubeconfig`: a denial
 * over HTTPS becomes an Event at the (fake) API server; with the API hanging, admission answers as
 * fast as ever and shutdown stays bounded.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { startEventsApi, type EventsApi } from '../support/events-api.js';
import { jane } from '../support/identities.js';
import { sample } from '../support/prom.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/signals.js';
import { steady } from '../support/wait.js';

const NOW = new Date('2026-11-20T00:00:00Z');
let api: EventsApi | undefined;
let srv: TestServer | undefined;

afterEach(async () => {
  await srv?.close();
  await api?.close();
  srv = undefined;
  api = undefined;
});

async function start(tuning: Record<string, unknown> = {}): Promise<{ srv: TestServer; api: EventsApi; registry: Registry }> {
  api = await startEventsApi();
  const registry = new Registry();
  const kubeconfig = api.kubeconfig;
  srv = await startTestServer({
    config: { cluster: kubeconfig, monitoring: { eventTuning: tuning, drainGraceMs: 300 } },
    deps: { registry },
    now: () => NOW,
  });
  return { srv, api, registry };
}

describe('serve with a cluster: Events', () => {
  it('turns a denied kubectl edit into a ManualEditDenied Event; a dry run into none', async () => {
    const { srv, api } = await start();
    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    expect((await srv.review(edit)).json.response.allowed).toBe(false);
    const dry = buildReview({
      operation: 'UPDATE',
      userInfo: jane(),
      object: edited(object('deployment-staging-web'), (o) => (o.spec.paused = true)),
      oldObject: object('deployment-staging-web'),
      dryRun: true,
    });
    expect((await srv.review(dry)).status).toBe(200);
    await until(() => api.events.size === 1, 5_000, 'the Event');
    const [ev] = [...api.events.values()];
    expect(ev).toMatchObject({
      reason: 'ManualEditDenied',
      involvedObject: { kind: 'Deployment', name: 'web', namespace: 'prod-shop' },
      count: 1,
    });
    expect(ev.message).toContain(edit.request.userInfo.username);
    // The dry run adds none: the requests settle at the one Event's.
    expect(await steady(() => api.requests.length)).toBe(1);
  });

  it('answers as fast with a hanging API server, counts the drops, and shuts down in bounded time', async () => {
    const { srv, api, registry } = await start({ timeoutMs: 2_000, maxQueue: 5, maxAttempts: 1 });
    api.mode = 'hang';
    const latencies: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Forty different objects: forty Events wanted, at most five can wait.
      const web = edited(object('deployment-prod-web'), (o) => (o.metadata.name = `web-${i}`));
      const review = buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web, (o) => (o.spec.paused = true)),
        oldObject: web,
        fieldManager: 'kubectl-edit',
      });
      const t = performance.now();
      const res = await srv.review(review);
      latencies.push(performance.now() - t);
      expect(res.json.response.allowed).toBe(false);
    }
    // An API call would take 2 s to time out; no answer waited for one.
    expect(Math.max(...latencies)).toBeLessThan(500);
    const text = await registry.metrics();
    expect(sample(text, 'driftguard_events_dropped_total', { reason: 'queue_full' })).toBeGreaterThanOrEqual(30);
    const closing = performance.now();
    await srv.close();
    expect(performance.now() - closing).toBeLessThan(2_500);
  });
});
