/**
 * Every writer tells one story about a decision: the violation record, the Kubernetes Event, the
 * notification and the metric all take each policy's decision from the engine's one mapping
 * (engine/decision.ts policyDecision). The case that once split them: a warn-mode policy whose
 * evaluation fails while another policy denies the same request. The warn-mode policy is warned
 * (an error denies only under enforce), the request as a whole is denied.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicies } from '../../src/policy/load.js';
import { readJson, SAMPLE_POLICIES } from '../support/fixtures.js';
import { startEventsApi } from '../support/events-api.js';
import { sample } from '../support/prom.js';
import { startReceiver } from '../support/receiver.js';
import { startTestServer } from '../support/server.js';
import { until } from '../support/signals.js';

const NOW = new Date('2026-11-20T00:00:00Z');
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const boom = (): never => {
  throw new Error('boom');
};

describe('one decision per policy, as every writer reports it', () => {
  it('a warn-mode policy that errors beside a denying one: warned in the record, the Event, the notification; the request denied in the metric', async () => {
    const api = await startEventsApi();
    const webhook = await startReceiver();
    open.push(api, webhook);
    const registry = new Registry();
    const srv = await startTestServer({
      config: {
        cluster: api.kubeconfig,
        monitoring: { notifyWebhooks: [webhook.url], notifyTuning: { flushMs: 20, timeoutMs: 2_000 }, drainGraceMs: 300 },
      },
      deps: { registry },
      now: () => NOW,
    });
    open.push(srv);

    // argocd-prod (enforce) denies this kubectl edit; beside it, a warn-mode copy whose evaluation throws.
    const set = await loadPolicies([SAMPLE_POLICIES]);
    const denying = set.policies.find((p) => p.name === 'argocd-prod')!;
    expect(denying.mode).toBe('enforce');
    const broken: CompiledPolicy = {
      ...denying,
      name: 'argocd-prod-warn',
      mode: 'warn',
      resources: denying.resources.map((r) => ({ ...r, group: boom })),
    };
    srv.running.swapPolicies({ ...set, policies: [denying, broken] });

    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    const res = await srv.review(edit);
    expect(res.json.response.allowed).toBe(false);

    const records = srv.records().filter((r) => r.type === 'violation');
    const decisions = Object.fromEntries(records.map((r) => [r.policy, r.decision]));
    expect(decisions).toEqual({ 'argocd-prod': 'denied', 'argocd-prod-warn': 'warned' });
    expect(records.every((r) => r.allowed === false)).toBe(true);

    await until(() => webhook.received.flatMap((r) => r.body.notifications).length === 2, 5_000, 'two notifications');
    const notified = webhook.received.flatMap((r) => r.body.notifications);
    expect(Object.fromEntries(notified.map((n: any) => [n.policy, n.decision]))).toEqual(decisions);
    expect(Object.fromEntries(notified.map((n: any) => [n.policy, n.kind]))).toEqual({
      'argocd-prod': 'denied',
      'argocd-prod-warn': 'drift',
    });

    // One Event per object, reason and actor: ManualEditDenied for the denial, DriftObserved for the warning.
    await until(() => api.events.size === 2, 5_000, 'two Events');
    const events = [...api.events.values()];
    const byReason = Object.fromEntries(events.map((e) => [e.reason, e.message as string]));
    expect(Object.keys(byReason).sort()).toEqual(['DriftObserved', 'ManualEditDenied']);
    expect(byReason.ManualEditDenied).toContain('(policy argocd-prod)');
    expect(byReason.DriftObserved).toContain('(policy argocd-prod-warn, warned)');

    // The request as a whole: denied, by the policy whose record says denied.
    const text = await registry.metrics();
    const counted = (decision: string, policy: string) =>
      sample(text, 'driftguard_admission_requests_total', { decision, policy, operation: 'UPDATE', kind: 'Deployment' });
    expect(counted('denied', 'argocd-prod')).toBe(1);
    expect(counted('warned', 'argocd-prod-warn')).toBeUndefined();
    expect(counted('denied', 'argocd-prod-warn')).toBeUndefined();
  });
});
