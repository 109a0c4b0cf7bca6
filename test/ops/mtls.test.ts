/** `serve --client-ca`: mutual TLS with the API server, over real HTTPS with real certificates. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, startServer, type RunningServer } from '../../src/serve.js';
import { fixturePath, SAMPLE_POLICIES } from '../support/fixtures.js';
import { request, type HttpResult } from '../support/https.js';
import { clientCertificate, pki, type Pki } from '../support/pki.js';
import { projectVolume, updateVolume } from '../support/projected-volume.js';

const REVIEW = readFileSync(fixturePath('reviews', 'kubectl-edit-prod.json'), 'utf8');
const UID = JSON.parse(REVIEW).request.uid as string;

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

async function start(server: Pki, clientCa: string): Promise<{ url: string; tlsDir: string; files: Record<string, string> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-mtls-'));
  const tlsDir = path.join(dir, 'tls');
  const files = { 'tls.crt': server.serving.cert, 'tls.key': server.serving.key, 'client-ca.crt': clientCa };
  projectVolume(tlsDir, files);
  running = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      policies: [SAMPLE_POLICIES],
      certDir: path.join(dir, 'unused'),
      tlsCert: path.join(tlsDir, 'tls.crt'),
      tlsKey: path.join(tlsDir, 'tls.key'),
      clientCa: path.join(tlsDir, 'client-ca.crt'),
      records: path.join(dir, 'records.jsonl'),
      service: 'driftguard',
      namespace: 'driftguard',
      timeouts: DEFAULT_TIMEOUTS,
      shutdownGraceMs: 1_000,
      reload: { debounceMs: 50, intervalMs: 0 },
    },
    { logger: pino({ level: 'silent' }), clock: () => new Date('2026-11-24T12:00:00Z') },
  );
  return { url: running.url, tlsDir, files };
}

function review(url: string, ca: string, client?: { cert: string; key: string }): Promise<HttpResult> {
  return request(`${url}/validate`, { ca, body: REVIEW, headers: { 'content-type': 'application/json' }, ...(client ?? {}) });
}

describe('mutual TLS (--client-ca)', () => {
  it('serves an API server whose client certificate the CA signed, and refuses one without a certificate', async () => {
    const server = await pki();
    const clients = await pki();
    const apiserver = await clientCertificate(clients.ca);
    const { url } = await start(server, clients.ca.cert);

    const signed = await review(url, server.ca.cert, apiserver);
    expect(signed.status).toBe(200);
    expect(signed.json.response).toMatchObject({ uid: UID, allowed: false });

    const anonymous = await review(url, server.ca.cert);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.error.code).toBe('DG_CLIENT_CERT');
    expect(anonymous.json.response).toBeUndefined();
  });

  it('refuses a certificate from another CA, and one the serving CA (not the client CA) signed', async () => {
    const server = await pki();
    const clients = await pki();
    const stranger = await pki();
    const { url } = await start(server, clients.ca.cert);
    for (const cert of [await clientCertificate(stranger.ca), await clientCertificate(server.ca)]) {
      const r = await review(url, server.ca.cert, cert);
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({ code: 'DG_CLIENT_CERT', message: expect.stringContaining('not accepted') });
    }
  });

  it('keeps /healthz and /readyz open: the kubelet probes without a client certificate', async () => {
    const server = await pki();
    const clients = await pki();
    const { url } = await start(server, clients.ca.cert);
    for (const probe of ['/healthz', '/readyz'])
      expect((await request(`${url}${probe}`, { ca: server.ca.cert, method: 'GET' })).status).toBe(200);
  });

  it('follows a rotated client CA without a restart', async () => {
    const server = await pki();
    const oldClients = await pki();
    const newClients = await pki();
    const oldCert = await clientCertificate(oldClients.ca);
    const newCert = await clientCertificate(newClients.ca);
    const { url, tlsDir, files } = await start(server, oldClients.ca.cert);
    expect((await review(url, server.ca.cert, oldCert)).status).toBe(200);
    updateVolume(tlsDir, { ...files, 'client-ca.crt': newClients.ca.cert });
    const deadline = Date.now() + 5_000;
    while ((await review(url, server.ca.cert, newCert)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the new client CA was never loaded');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await review(url, server.ca.cert, oldCert)).status).toBe(401);
  });
});
