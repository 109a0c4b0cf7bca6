/**
 * Metrics from a real server: reviews over HTTPS, then GET /metrics on the webhook port and on the
 * plain-HTTP metrics port. Numbers are asserted per labelled series.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { DriftguardMetrics } from '../../src/metrics/metrics.js';
import { request } from '../support/https.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { argocdController, jane, oncallBob } from '../support/identities.js';
import { sample } from '../support/prom.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { ChangeRecord } from '../../src/records/record.js';

function httpGet(url: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('utf8') }),
        );
      })
      .on('error', reject);
  });
}

// Before the machine's time (the generated certificate starts at the server's clock) and before
// the sample break-glass entry expires (2099-01-01).
const NOW = new Date('2026-11-20T00:00:00Z');
const web = () => object('deployment-prod-web');
const image = (o: any) => {
  o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:9.9.9';
};

describe('metrics from a running server', () => {
  let srv: TestServer;
  let registry: Registry;
  let hookCalls = 0;

  beforeAll(async () => {
    registry = new Registry();
    srv = await startTestServer({
      config: { monitoring: { metricsPort: 0 } },
      // The caller's own hooks still run, after the metrics.
      deps: {
        registry,
        hooks: {
          onDecision: () => {
            hookCalls++;
          },
        },
      },
      now: () => NOW,
    });
    const reviews = [
      readJson('reviews', 'kubectl-edit-prod.json'),
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web(), image),
        oldObject: web(),
        fieldManager: 'kubectl-edit',
        dryRun: true,
      }),
      buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        object: edited(web(), image),
        oldObject: web(),
        fieldManager: 'argocd-controller',
      }),
      buildReview({
        operation: 'UPDATE',
        userInfo: oncallBob(),
        object: edited(web(), image),
        oldObject: web(),
        fieldManager: 'kubectl-set',
      }),
      buildReview({
        operation: 'UPDATE',
        subResource: 'scale',
        userInfo: jane(),
        object: edited(web(), (o) => (o.spec.replicas = 9)),
        oldObject: web(),
      }),
    ];
    for (const r of reviews) {
      const res = await srv.review(r);
      expect(res.status).toBe(200);
      expect(res.json.response.uid).toBe((r as any).request.uid);
    }
    expect((await srv.review('{not json')).status).toBe(400);
  });

  afterAll(async () => {
    await srv?.close();
  });

  it('counts admission requests by decision, policy, operation, kind and dry run', async () => {
    const text = await registry.metrics();
    const count = (decision: string, policy: string, dryRun = 'false', kind = 'Deployment') =>
      sample(text, 'driftguard_admission_requests_total', { decision, policy, operation: 'UPDATE', kind, dry_run: dryRun });
    expect(count('denied', 'argocd-prod')).toBe(2); // the edit, and the scale counted on its Deployment
    expect(count('denied', 'argocd-prod', 'true')).toBe(1);
    expect(count('allowed', 'none')).toBe(1);
    expect(count('break-glass', 'argocd-prod')).toBe(1);
    expect(sample(text, 'driftguard_evaluation_duration_seconds_count')).toBe(5);
    expect(hookCalls).toBe(5);
  });

  it('times HTTP requests by matched route and status; unknown paths share one label', async () => {
    await request(`${srv.url}/no/such/path?x=1`, { ca: srv.ca, method: 'GET' });
    const text = await registry.metrics();
    expect(sample(text, 'driftguard_request_duration_seconds_count', { route: '/validate', code: '200' })).toBe(5);
    expect(sample(text, 'driftguard_request_duration_seconds_count', { route: '/validate', code: '400' })).toBe(1);
    expect(sample(text, 'driftguard_request_duration_seconds_count', { route: 'unmatched', code: '404' })).toBe(1);
    expect(text).not.toContain('/no/such/path');
  });

  it('reports the policies loaded and the seconds left on the serving certificate', async () => {
    const text = await registry.metrics();
    expect(sample(text, 'driftguard_policies_loaded')).toBe(3);
    const notAfter = new X509Certificate(readFileSync(path.join(srv.dir, 'certs', 'tls.crt'))).validTo;
    expect(sample(text, 'driftguard_certificate_expiry_seconds')).toBeCloseTo((Date.parse(notAfter) - NOW.getTime()) / 1000, 0);
  });

  it('serves the same metrics on GET /metrics over HTTPS and over the plain-HTTP port', async () => {
    const https = await request(`${srv.url}/metrics`, { ca: srv.ca, method: 'GET' });
    expect(https.status).toBe(200);
    expect(String(https.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(
      sample(https.text, 'driftguard_admission_requests_total', { decision: 'break-glass', policy: 'argocd-prod', dry_run: 'false' }),
    ).toBe(1);
    const url = srv.running.monitoring.metricsUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const plain = await httpGet(`${url}/metrics`);
    expect(plain.status).toBe(200);
    expect(sample(plain.text, 'driftguard_policies_loaded')).toBe(3);
    expect((await httpGet(`${url}/validate`)).status).toBe(404);
  });
});

describe('metric hooks', () => {
  it('count change records by actor class, reload failures, and follow a new certificate', async () => {
    let now = new Date('2026-11-24T00:00:00Z');
    const registry = new Registry();
    const m = new DriftguardMetrics({ registry, clock: () => now });
    const hooks = m.hooks();
    // Only actorClass is read; the rest of a change record does not matter here.
    const change = (actorClass: ChangeRecord['actorClass']) => ({ actorClass, stage: 'final' }) as unknown as ChangeRecord;
    hooks.onChangeRecord!(change('person'));
    hooks.onChangeRecord!(change('gitops'));
    hooks.onChangeRecord!(change('person'));
    hooks.onPolicyLoad!({ ok: true, policies: 7 });
    hooks.onPolicyLoad!({ ok: false, policies: 0, error: 'typo.yaml:3:5 unknown field' });
    hooks.onCertificateLoad!({ notAfter: new Date('2026-12-01T00:00:00Z') });
    let text = await registry.metrics();
    expect(sample(text, 'driftguard_change_records_total', { actor_class: 'person' })).toBe(2);
    expect(sample(text, 'driftguard_change_records_total', { actor_class: 'gitops' })).toBe(1);
    expect(sample(text, 'driftguard_policies_loaded')).toBe(7);
    expect(sample(text, 'driftguard_policy_reload_failures_total')).toBe(1);
    expect(sample(text, 'driftguard_certificate_expiry_seconds')).toBe(7 * 86400);
    // Computed at scrape time: a day later, a day less; a renewed certificate, more.
    now = new Date('2026-11-25T00:00:00Z');
    text = await registry.metrics();
    expect(sample(text, 'driftguard_certificate_expiry_seconds')).toBe(6 * 86400);
    hooks.onCertificateLoad!({ notAfter: new Date('2027-02-22T00:00:00Z') });
    expect(sample(await registry.metrics(), 'driftguard_certificate_expiry_seconds')).toBe(89 * 86400);
  });

  it('registers nothing on prom-client’s global registry', async () => {
    const { register } = await import('prom-client');
    new DriftguardMetrics({ registry: new Registry(), clock: () => new Date() });
    expect(register.getSingleMetric('driftguard_admission_requests_total')).toBeUndefined();
  });
});
