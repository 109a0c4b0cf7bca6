/**
 * `serve --audit-webhook`: the API server's audit batches (EventList) over HTTPS on a port of its
 * own, a bearer token or mutual TLS, a bounded queue that refuses what does not fit, records in the
 * records file, and metrics. Only the validating webhook and this endpoint are in play (no observer
 * is called): the records alone explain the object.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditConverter } from '../../src/auditlog/convert.js';
import { startAuditWebhook } from '../../src/server/audit-webhook.js';
import { ensureCertDir } from '../../src/server/tls.js';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { KubeObject } from '../../src/k8s/admission.js';
import { auditEvent } from '../support/audit-events.js';
import { cli } from '../support/cli.js';
import { object } from '../support/fixtures.js';
import { request } from '../support/https.js';
import { argocdController, hpa, jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { clientCertificate, pki } from '../support/pki.js';

function web(rv: number, edit: (o: any) => void = () => {}): KubeObject {
  const o = structuredClone(object('deployment-prod-web')) as any;
  o.metadata.resourceVersion = String(rv);
  edit(o);
  return o;
}

const t = (s: number): string => new Date(Date.parse('2026-11-24T12:00:00Z') + s * 1000).toISOString();

/** An EventList as the API server's webhook backend posts it: its items carry no kind or apiVersion. */
function batch(items: Array<Record<string, unknown>>): string {
  const bare = items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
  return JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: bare });
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('serve --audit-webhook', () => {
  it('takes batches with the bearer token, records their writes, refuses the rest, and counts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dg-audit-hook-'));
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    server = await startTestServer({ config: { auditWebhook: { port: 0, path: '/audit', tokenFile } } });
    const hook = server.running.auditWebhook!;
    expect(hook.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/audit$/);
    expect(hook.port).not.toBe(server.running.port);
    const post = (body: string, token?: string) =>
      request(hook.url, {
        ca: server!.ca,
        body,
        headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      });
    const events = [
      auditEvent({ verb: 'create', user: argocdController(), object: web(100), time: t(0), auditID: 'e1' }),
      auditEvent({ verb: 'get', user: jane(), object: web(100), time: t(1), auditID: 'e2' }),
      auditEvent({ verb: 'patch', user: jane(), object: web(101, (o) => (o.spec.replicas = 9)), code: 403, time: t(2), auditID: 'e3' }),
      auditEvent({ verb: 'patch', user: hpa(), object: web(101, (o) => (o.spec.replicas = 6)), time: t(3), auditID: 'e4' }),
    ];

    expect((await post(batch(events))).status).toBe(401);
    expect((await post(batch(events), 'wrong')).json).toMatchObject({ code: 'DG_AUDIT_UNAUTHORIZED' });
    expect((await post('{"kind":"Event"}', 's3cret-token')).json).toMatchObject({ code: 'DG_AUDIT_BATCH_INVALID' });
    expect((await post('not json', 's3cret-token')).status).toBe(400);
    const ok = await post(batch(events), 's3cret-token');
    expect(ok.status).toBe(200);

    const written = await vi.waitFor(
      () => {
        const recs = server!.records().filter((r) => r.source === 'audit-log');
        if (recs.length < 2) throw new Error(`${recs.length} audit records so far`);
        return recs;
      },
      { timeout: 10_000, interval: 50 },
    );
    // The create and the HPA's patch; the get and the 403 are none.
    expect(written.map((r) => [r.uid, r.operation, r.actor.username])).toEqual([
      ['e1', 'CREATE', argocdController().username],
      ['e4', 'UPDATE', hpa().username],
    ]);
    expect(written[1].changes).toEqual([{ path: '/spec/replicas', op: 'replace', old: 3, new: 6 }]);

    // The records file alone (no observer record in it) explains the object.
    const x = await cli(['explain', 'deploy/web', '-n', 'prod-shop', server.recordsFile, '-o', 'json']);
    expect(JSON.parse(x.stdout).fields).toEqual([
      expect.objectContaining({ path: '/spec/replicas', value: 6, lastWriter: expect.objectContaining({ username: hpa().username }) }),
    ]);

    const metrics = (await server.running.monitoring.exposition()).text;
    expect(metrics).toMatch(/driftguard_audit_batches_total\{outcome="accepted"\} 1/);
    expect(metrics).toMatch(/driftguard_audit_batches_total\{outcome="unauthorized"\} 2/);
    expect(metrics).toMatch(/driftguard_audit_batches_total\{outcome="invalid"\} 2/);
    expect(metrics).toMatch(/driftguard_audit_events_total\{outcome="change"\} 2/);
    expect(metrics).toMatch(/driftguard_audit_events_total\{outcome="skip"\} 2/);
    expect(metrics).toMatch(/driftguard_audit_queue_events 0/);
  });

  it('refuses a batch that does not fit the queue whole, with 429 and Retry-After, and keeps what it took', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dg-audit-hook-'));
    await ensureCertDir(dir, { service: 'driftguard', namespace: 'driftguard', now: new Date() });
    const written: any[] = [];
    // A sink that holds on: the handler's records wait behind a slow disk.
    const records = { write: (r: object) => written.push(r), flush() {}, flushSync() {}, close: async () => {} };
    const hook = await startAuditWebhook({
      host: '127.0.0.1',
      port: 0,
      path: '/audit',
      cert: readFileSync(path.join(dir, 'tls.crt')),
      key: readFileSync(path.join(dir, 'tls.key')),
      token: 't',
      records,
      converter: new AuditConverter({ gitops: [] }),
      logger: pino({ level: 'silent' }),
      capacity: 3,
    });
    try {
      const ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
      const events = [0, 1, 2, 3].map((i) =>
        auditEvent({ verb: 'patch', user: jane(), object: web(100 + i, (o) => (o.spec.replicas = i)), time: t(i), auditID: `q${i}` }),
      );
      const full = await request(hook.url, { ca, body: batch(events), headers: { authorization: 'Bearer t' } });
      expect(full.status).toBe(429);
      expect(full.headers['retry-after']).toBe('1');
      expect(full.json).toMatchObject({ code: 'DG_AUDIT_QUEUE_FULL' });
      const fits = await request(hook.url, { ca, body: batch(events.slice(0, 3)), headers: { authorization: 'Bearer t' } });
      expect(fits.status).toBe(200);
      await hook.close(2_000);
      // Closing turned what was queued into records.
      expect(written.map((r) => r.uid)).toEqual(['q0', 'q1', 'q2']);
    } finally {
      await hook.close(0);
    }
  });

  it('with mutual TLS, takes a client the CA signed and refuses one without a certificate or from another CA at the handshake', async () => {
    const server = await pki();
    const clients = await pki();
    const stranger = await pki();
    const written: any[] = [];
    const hook = await startAuditWebhook({
      host: '127.0.0.1',
      port: 0,
      path: '/audit',
      cert: server.serving.cert,
      key: server.serving.key,
      clientCa: clients.ca.cert,
      records: { write: (r: object) => written.push(r), flush() {}, flushSync() {}, close: async () => {} },
      converter: new AuditConverter({ gitops: [] }),
      logger: pino({ level: 'silent' }),
    });
    try {
      const body = batch([auditEvent({ verb: 'create', user: argocdController(), object: web(100), time: t(0), auditID: 'm1' })]);
      const apiserver = await clientCertificate(clients.ca);
      const ok = await request(hook.url, { ca: server.ca.cert, body, cert: apiserver.cert, key: apiserver.key });
      expect(ok.status).toBe(200);
      await expect(request(hook.url, { ca: server.ca.cert, body })).rejects.toThrow();
      const other = await clientCertificate(stranger.ca);
      await expect(request(hook.url, { ca: server.ca.cert, body, cert: other.cert, key: other.key })).rejects.toThrow();
      await hook.close(2_000);
      expect(written.map((r) => r.uid)).toEqual(['m1']);
    } finally {
      await hook.close(0);
    }
  });
});
