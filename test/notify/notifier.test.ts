/**
 * Notification channels against local receivers: what a generic webhook and a Slack-compatible
 * one receive, batching, retries with backoff (and Retry-After), a receiver that refuses, one that
 * hangs, and a bounded queue whose drops are counted.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReview, user } from '../../src/admission/build.js';
import type { DriftSignal } from '../../src/signal/signal.js';
import { slackFormat, webhookFormat, type NotificationFormat } from '../../src/notify/format.js';
import { Notifier, type NotifierOptions } from '../../src/notify/notifier.js';
import { postJson } from '../../src/notify/post.js';
import { edited, object } from '../support/fixtures.js';
import { jane, kubeadmAdmin, oncallBob } from '../support/identities.js';
import { startReceiver, type Answer, type Receiver } from '../support/receiver.js';
import { countingMeter, signalsFor, until, type CountingMeter } from '../support/signals.js';
import { steady } from '../support/wait.js';

const web = () => object('deployment-prod-web');
const edit = (
  who: any,
  obj = web(),
  change: (o: any) => void = (o) => (o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:6.6.6'),
) => buildReview({ operation: 'UPDATE', userInfo: who, object: edited(obj, change), oldObject: obj, fieldManager: 'kubectl-edit' });

let receiver: Receiver | undefined;
let notifier: Notifier | undefined;
let meter: CountingMeter;

afterEach(async () => {
  await notifier?.close(100);
  await receiver?.close();
  notifier = undefined;
  receiver = undefined;
});

async function setup(
  answer: (n: number) => Answer,
  format: NotificationFormat,
  opts: Partial<NotifierOptions> = {},
): Promise<{ r: Receiver; n: Notifier }> {
  receiver = await startReceiver(answer);
  meter = countingMeter();
  notifier = new Notifier({
    url: receiver.url,
    format,
    post: postJson,
    logger: pino({ level: 'silent' }),
    clock: () => new Date('2026-11-20T10:00:00Z'),
    meter,
    flushMs: 30,
    backoff: { baseMs: 20, maxMs: 200 },
    random: () => 1,
    timeoutMs: 1_000,
    ...opts,
  });
  return { r: receiver, n: notifier };
}

async function threeSignals(): Promise<DriftSignal[]> {
  return [
    ...(await signalsFor(edit(jane()))),
    ...(await signalsFor(edit(oncallBob()))),
    ...(await signalsFor(edit(jane(), object('deployment-staging-web')))),
  ];
}

describe('generic JSON webhook', () => {
  it('gets denials, break-glass and drift in one batch, naming actor, fields and the owning app', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), webhookFormat);
    for (const s of await threeSignals()) n.notify(s);
    await until(() => meter.sentCount === 3, 5_000, 'delivery');
    expect(r.received).toHaveLength(1);
    const body = r.received[0]!.body;
    expect(r.received[0]!.contentType).toBe('application/json');
    expect(body).toMatchObject({ schema: 'driftguard.io/notification/v1', source: 'driftguard' });
    expect(body.notifications.map((x: any) => [x.kind, x.decision, x.policy, x.actor.username])).toEqual([
      ['denied', 'denied', 'argocd-prod', 'oidc:jane@example.com'],
      ['break-glass', 'break-glass', 'argocd-prod', 'oidc:bob@example.com'],
      ['drift', 'warned', 'staging-warn', 'oidc:jane@example.com'],
    ]);
    const denied = body.notifications[0];
    expect(denied).toMatchObject({
      object: 'Deployment prod-shop/web',
      ownerText: 'Argo CD application shop',
      owner: { tool: 'argocd', application: 'shop' },
      fields: ['/spec/template/spec/containers[name=web]/image'],
      target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-shop', name: 'web' },
    });
    expect(denied.summary).toBe(
      'oidc:jane@example.com was denied: may not change Deployment prod-shop/web (managed by Argo CD application shop): /spec/template/spec/containers[name=web]/image (policy argocd-prod)',
    );
    expect(body.notifications[1].breakGlass.reason).toBe('INC-4711 hotfix while Git is frozen');
    expect(body.notifications[2].ownerText).toBe('Argo CD application shop-staging');
  });

  it('names the Flux object that owns a Secret, and never carries its values', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), webhookFormat);
    const secret = object('secret-flux-db');
    const newPassword = Buffer.from('correct horse battery staple').toString('base64');
    for (const s of await signalsFor(edit(kubeadmAdmin(), secret, (o) => (o.data.password = newPassword)))) n.notify(s);
    await until(() => meter.sentCount === 1);
    const text = JSON.stringify(r.received[0]!.body);
    expect(text).toContain('Flux Kustomization flux-system/apps');
    expect(text).toContain('/data/password');
    expect(text).not.toContain(newPassword);
    for (const v of Object.values(secret.data as Record<string, string>)) expect(text).not.toContain(v);
  });

  it('splits a burst into batches of batchSize', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), webhookFormat, { batchSize: 2 });
    const s = (await signalsFor(edit(jane())))[0]!;
    for (let i = 0; i < 5; i++) n.notify({ ...s, target: { ...s.target, name: `web-${i}` } });
    await until(() => meter.sentCount === 5);
    expect(r.received.map((x) => x.body.notifications.length)).toEqual([2, 2, 1]);
  });
});

describe('Slack-compatible webhook', () => {
  it('gets {text, blocks} in Slack mrkdwn with markup in names escaped', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), slackFormat);
    const hostile = user('<!channel> <https://evil.example|click> & co', ['oncall']);
    for (const s of [...(await threeSignals()), ...(await signalsFor(edit(hostile)))]) n.notify(s);
    await until(() => meter.sentCount === 4);
    const body = r.received[0]!.body;
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe('driftguard: 1 denied, 2 break-glass, 1 drift');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'driftguard: 1 denied, 2 break-glass, 1 drift' } });
    const sections = body.blocks.filter((b: any) => b.type === 'section').map((b: any) => b.text.text);
    expect(sections).toHaveLength(4);
    expect(sections[0]).toContain('*:no_entry: Denied* · policy `argocd-prod` · *oidc:jane@example.com* (person)');
    expect(sections[0]).toContain('owned by *Argo CD application shop*');
    expect(sections[0]).toContain('Fields: /spec/template/spec/containers[name=web]/image');
    expect(sections[1]).toContain('Reason: INC-4711 hotfix while Git is frozen (until 2099-01-01T00:00:00Z)');
    expect(sections[3]).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co');
    expect(JSON.stringify(body)).not.toContain('<!channel>');
  });

  it('keeps a message within Slack’s 50 blocks: at most 20 signals each', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), slackFormat, { batchSize: 100 });
    const s = (await signalsFor(edit(jane())))[0]!;
    for (let i = 0; i < 45; i++) n.notify({ ...s, target: { ...s.target, name: `web-${i}` } });
    await until(() => meter.sentCount === 45);
    expect(r.received.map((x) => x.body.blocks.length)).toEqual([41, 41, 11]);
  });
});

describe('delivery when the receiver misbehaves', () => {
  it('retries a failing receiver with growing backoff until it answers', async () => {
    const { r, n } = await setup((i) => (i <= 2 ? { status: 503 } : { status: 200 }), webhookFormat);
    for (const s of await threeSignals()) n.notify(s);
    await until(() => meter.sentCount === 3, 5_000, 'delivery after retries');
    expect(r.received).toHaveLength(3);
    expect(meter.drops).toEqual({});
    // random() = 1: waits of 20 ms then 40 ms.
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(18);
    expect(r.received[2]!.at - r.received[1]!.at).toBeGreaterThanOrEqual(38);
    expect(r.received[2]!.body).toEqual(r.received[0]!.body);
  });

  it('follows Retry-After instead of its own backoff', async () => {
    const { r, n } = await setup((i) => (i === 1 ? { status: 429, retryAfter: '0' } : { status: 200 }), webhookFormat, {
      backoff: { baseMs: 10_000, maxMs: 30_000 },
    });
    n.notify((await signalsFor(edit(jane())))[0]!);
    await until(() => meter.sentCount === 1, 3_000, 'a prompt retry');
    expect(r.received).toHaveLength(2);
  });

  it('gives up at once on a receiver that refuses the message (404), counting the drop', async () => {
    const { r, n } = await setup(() => ({ status: 404 }), webhookFormat);
    for (const s of await threeSignals()) n.notify(s);
    await until(() => meter.drops.rejected === 3);
    // No retry follows: what the receiver got settles at the one message.
    expect(await steady(() => r.received.length)).toBe(1);
  });

  it('drops after the last attempt when the receiver keeps failing, logging the host but never the URL path', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(l) });
    const { r, n } = await setup(() => ({ status: 500 }), webhookFormat, { maxAttempts: 3, logger });
    n.notify((await signalsFor(edit(jane())))[0]!);
    await until(() => meter.drops.failed === 1);
    expect(r.received).toHaveLength(3);
    expect(lines.some((l) => l.includes('notification failed') && l.includes(new URL(r.url).origin))).toBe(true);
    expect(lines.join('\n')).not.toContain('XXXXsecretXXXX');
  });

  it('a hanging receiver times out per request; the bounded queue drops the overflow and notify() never waits', async () => {
    const { r, n } = await setup(() => 'hang', webhookFormat, { timeoutMs: 100, maxAttempts: 2, maxQueue: 10, batchSize: 5, flushMs: 10 });
    const s = (await signalsFor(edit(jane())))[0]!;
    n.notify(s);
    await until(() => r.received.length === 1, 2_000, 'the first send');
    const started = performance.now();
    for (let i = 0; i < 100; i++) n.notify({ ...s, target: { ...s.target, name: `web-${i}` } });
    expect(performance.now() - started).toBeLessThan(20);
    expect(meter.drops.queue_full).toBe(90);
    await until(() => (meter.drops.failed ?? 0) >= 1, 3_000, 'the timed-out batch to be dropped');
    expect(r.received.length).toBeGreaterThanOrEqual(2);
    const closing = performance.now();
    await n.close(150);
    expect(performance.now() - closing).toBeLessThan(600);
    expect((meter.drops.failed ?? 0) + (meter.drops.shutdown ?? 0)).toBe(11);
    notifier = undefined;
  });

  it('on close sends what is queued without waiting out the batch window', async () => {
    const { r, n } = await setup(() => ({ status: 200 }), webhookFormat, { flushMs: 60_000 });
    for (const s of await threeSignals()) n.notify(s);
    await n.close(2_000);
    expect(r.received).toHaveLength(1);
    expect(meter.sentCount).toBe(3);
    n.notify((await threeSignals())[0]!);
    expect(meter.drops.shutdown).toBe(1);
    notifier = undefined;
  });
});
