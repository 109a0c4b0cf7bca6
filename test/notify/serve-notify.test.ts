/** Notifications from the running server, configured like `serve --notify-webhook URL --notify-slack URL`. */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { serveConfig } from '../../src/cli/serve.js';
import { cli } from '../support/cli.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { argocdController, jane } from '../support/identities.js';
import { sample } from '../support/prom.js';
import { startReceiver, type Receiver } from '../support/receiver.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/signals.js';

const NOW = new Date('2026-11-20T00:00:00Z');
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function serverWith(webhook: Receiver, slack: Receiver, registry: Registry): Promise<TestServer> {
  const srv = await startTestServer({
    config: {
      monitoring: {
        notifyWebhooks: [webhook.url],
        notifySlack: [slack.url],
        notifyTuning: { flushMs: 20, timeoutMs: 2_000, maxQueue: 10 },
        drainGraceMs: 200,
      },
    },
    deps: { registry },
    now: () => NOW,
  });
  open.push(srv);
  return srv;
}

describe('serve with notification channels', () => {
  it('sends a denial to both channels; allowed writes and dry runs send nothing', async () => {
    const webhook = await startReceiver();
    const slack = await startReceiver();
    open.push(webhook, slack);
    const registry = new Registry();
    const srv = await serverWith(webhook, slack, registry);
    const web = object('deployment-prod-web');
    const paused = edited(web, (o) => (o.spec.paused = true));
    await srv.review(
      buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: paused, oldObject: web, fieldManager: 'argocd-controller' }),
    );
    await srv.review(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: paused, oldObject: web, fieldManager: 'kubectl-edit', dryRun: true }),
    );
    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    expect((await srv.review(edit)).json.response.allowed).toBe(false);
    await until(() => webhook.received.length === 1 && slack.received.length === 1, 5_000, 'both channels');
    expect(webhook.received[0]!.body.notifications).toHaveLength(1);
    expect(webhook.received[0]!.body.notifications[0]).toMatchObject({
      kind: 'denied',
      policy: 'argocd-prod',
      actor: { username: edit.request.userInfo.username },
    });
    expect(slack.received[0]!.body.text).toContain(edit.request.userInfo.username);
    // Counted once the receiver has answered.
    let text = await registry.metrics();
    const sent = (sink: string) => sample(text, 'driftguard_notifications_sent_total', { sink });
    for (let i = 0; i < 100 && (sent('webhook') !== 1 || sent('slack') !== 1); i++) {
      await new Promise((r) => setTimeout(r, 10));
      text = await registry.metrics();
    }
    expect(sample(text, 'driftguard_notifications_sent_total', { sink: 'webhook' })).toBe(1);
    expect(sample(text, 'driftguard_notifications_sent_total', { sink: 'slack' })).toBe(1);
    expect(sample(text, 'driftguard_notifications_dropped_total', { sink: 'webhook', reason: 'queue_full' })).toBe(0);
  });

  it('a hanging receiver never slows admission; the overflow is counted in the drop metric', async () => {
    const webhook = await startReceiver(() => 'hang');
    const slack = await startReceiver();
    open.push(webhook, slack);
    const registry = new Registry();
    const srv = await serverWith(webhook, slack, registry);
    const web = object('deployment-prod-web');
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const review = buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web, (o) => (o.spec.replicas = 10 + i)),
        oldObject: web,
        fieldManager: 'kubectl-edit',
      });
      const t = performance.now();
      expect((await srv.review(review)).json.response.allowed).toBe(false);
      latencies.push(performance.now() - t);
    }
    expect(Math.max(...latencies)).toBeLessThan(500);
    await until(
      () => slack.received.reduce((n, r) => n + r.body.blocks.filter((b: any) => b.type === 'section').length, 0) === 30,
      5_000,
      'slack to get all 30',
    );
    const text = await registry.metrics();
    expect(sample(text, 'driftguard_notifications_dropped_total', { sink: 'webhook', reason: 'queue_full' })).toBeGreaterThanOrEqual(10);
    expect(sample(text, 'driftguard_notifications_dropped_total', { sink: 'slack', reason: 'queue_full' })).toBe(0);
  });
});

describe('serve flags', () => {
  const base = {
    port: '8443',
    host: '127.0.0.1',
    policies: ['policies'],
    certDir: 'certs',
    records: '-',
    logLevel: 'info',
    service: 'driftguard',
    namespace: 'driftguard',
    shutdownGrace: '1000',
    captureMaxFiles: '10000',
    recordsMaxBytes: '100Mi',
    recordsMaxFiles: '5',
  };

  it('map to the monitoring config', () => {
    const c = serveConfig({
      ...base,
      metricsPort: '9090',
      notifyWebhook: ['https://a.example/x', 'http://127.0.0.1:1/y'],
      notifySlack: ['https://hooks.slack.com/services/T/B/Z'],
      events: false,
    });
    expect(c.monitoring).toEqual({
      processMetrics: true,
      metricsPort: 9090,
      notifyWebhooks: ['https://a.example/x', 'http://127.0.0.1:1/y'],
      notifySlack: ['https://hooks.slack.com/services/T/B/Z'],
      events: false,
    });
  });

  it('refuse a URL that is not http(s) without echoing it, and a bad port', async () => {
    const r = await cli(['serve', '--notify-slack', 'ftp://hooks.example/services/SECRET123']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error DG_USAGE: --notify-slack takes an http\(s\) URL/);
    expect(r.stderr).not.toContain('SECRET123');
    expect((await cli(['serve', '--metrics-port', '70000'])).code).toBe(2);
  });
});
