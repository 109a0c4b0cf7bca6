/**
 * Hot reload against real files laid out and swapped the way the kubelet updates a mounted Secret
 * or ConfigMap (a `..data` symlink renamed over), with real HTTPS and real policy YAML.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS, startServer, type RunningServer } from '../../src/serve.js';
import type { Hooks } from '../../src/hooks/hooks.js';
import { fixturePath, SAMPLE_POLICIES } from '../support/fixtures.js';
import { memoryLogger } from '../support/memory-log.js';
import { pki, type Pki } from '../support/pki.js';
import { projectVolume, updateVolume } from '../support/projected-volume.js';
import { steady } from '../support/wait.js';

const REVIEW = readFileSync(fixturePath('reviews', 'kubectl-edit-prod.json'), 'utf8');
const UID = JSON.parse(REVIEW).request.uid as string;

/** Hook calls, with a way to wait for the next one. */
function recorder() {
  const certificates: { notAfter: Date }[] = [];
  const policies: { ok: boolean; policies: number; error?: string }[] = [];
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((w) => w());
  const hooks: Hooks = {
    onCertificateLoad: (i) => {
      certificates.push(i);
      notify();
    },
    onPolicyLoad: (i) => {
      policies.push(i);
      notify();
    },
  };
  const until = async (done: () => boolean, what: string, ms = 5_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { hooks, certificates, policies, until };
}

function samplePolicyFiles(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(SAMPLE_POLICIES)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => [f, readFileSync(path.join(SAMPLE_POLICIES, f), 'utf8')]),
  );
}

interface Setup {
  server: RunningServer;
  dir: string;
  tlsDir: string;
  policiesDir: string;
  first: Pki;
  rec: ReturnType<typeof recorder>;
  log: ReturnType<typeof memoryLogger>;
}

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-reload-'));
  const tlsDir = path.join(dir, 'tls');
  const policiesDir = path.join(dir, 'policies');
  const first = await pki({ servingDays: 30 });
  projectVolume(tlsDir, { 'tls.crt': first.serving.cert, 'tls.key': first.serving.key, 'ca.crt': first.ca.cert });
  projectVolume(policiesDir, samplePolicyFiles());
  const rec = recorder();
  const log = memoryLogger();
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      policies: [policiesDir],
      certDir: path.join(dir, 'unused'),
      tlsCert: path.join(tlsDir, 'tls.crt'),
      tlsKey: path.join(tlsDir, 'tls.key'),
      records: path.join(dir, 'records.jsonl'),
      service: 'driftguard',
      namespace: 'driftguard',
      timeouts: DEFAULT_TIMEOUTS,
      shutdownGraceMs: 1_000,
      reload: { debounceMs: 50, intervalMs: 0 },
    },
    { logger: log.logger, clock: () => new Date('2026-11-24T12:00:00Z'), hooks: rec.hooks },
  );
  running = server;
  return { server, dir, tlsDir, policiesDir, first, rec, log };
}

interface Answer {
  status: number;
  json: any;
  peer: string;
}

/** POST the review; `pause` runs after the headers and half the body are sent (request in flight). */
function post(port: number, ca: string[], pause?: () => Promise<void>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        servername: 'driftguard.driftguard.svc',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(REVIEW) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const peer = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), peer }));
      },
    );
    req.on('error', reject);
    const half = Math.floor(REVIEW.length / 2);
    // The write's callback runs once the first half is flushed: after the TLS handshake, so the
    // connection is the old certificate's whatever `pause` swaps.
    req.write(REVIEW.slice(0, half), () => {
      void (async () => {
        if (pause !== undefined) await pause();
        req.end(REVIEW.slice(half));
      })().catch(reject);
    });
  });
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('certificate hot reload', () => {
  it('serves a renewed Secret without a restart, finishes the request in flight, and reports the new expiry', async () => {
    const s = await setup();
    expect(s.rec.certificates).toHaveLength(1); // the load at start
    const second = await pki({ servingDays: 90 });
    const inFlight = await post(s.server.port, [s.first.ca.cert], async () => {
      updateVolume(s.tlsDir, { 'tls.crt': second.serving.cert, 'tls.key': second.serving.key, 'ca.crt': second.ca.cert });
      await s.rec.until(() => s.rec.certificates.length === 2, 'the certificate reload');
    });
    expect(inFlight.status).toBe(200);
    expect(inFlight.json.response.uid).toBe(UID);
    expect(inFlight.peer).toBe(fingerprint(s.first.serving.cert)); // accepted before the swap, finished on it

    const after = await post(s.server.port, [second.ca.cert]);
    expect(after.peer).toBe(fingerprint(second.serving.cert));
    expect(after.json.response.uid).toBe(UID);
    expect(s.rec.certificates[1]!.notAfter.toISOString()).toBe(new Date(new X509Certificate(second.serving.cert).validTo).toISOString());
    expect(s.rec.certificates[1]!.notAfter.getTime() - s.rec.certificates[0]!.notAfter.getTime()).toBeGreaterThan(59 * 86_400_000);
    expect(s.log.entries().some((e) => e.msg === 'certificate reloaded')).toBe(true);
  });

  it('rejects a key that does not match the certificate and keeps serving the previous pair', async () => {
    const s = await setup();
    const other = await pki();
    const third = await pki();
    updateVolume(s.tlsDir, { 'tls.crt': other.serving.cert, 'tls.key': third.serving.key, 'ca.crt': other.ca.cert });
    await s.rec.until(() => s.log.entries().some((e) => e.msg.startsWith('certificate reload rejected')), 'the rejection');
    expect(s.rec.certificates).toHaveLength(1);
    const answer = await post(s.server.port, [s.first.ca.cert]);
    expect(answer.status).toBe(200);
    expect(answer.peer).toBe(fingerprint(s.first.serving.cert));
    // Fixed: the matching key arrives, the new pair goes in.
    updateVolume(s.tlsDir, { 'tls.crt': other.serving.cert, 'tls.key': other.serving.key, 'ca.crt': other.ca.cert });
    await s.rec.until(() => s.rec.certificates.length === 2, 'the certificate reload');
    expect((await post(s.server.port, [other.ca.cert])).peer).toBe(fingerprint(other.serving.cert));
  });

  it('does nothing when a re-read finds the same files', async () => {
    const s = await setup();
    expect(await s.server.reload.certificate()).toEqual({ status: 'unchanged' });
    expect(await s.server.reload.policies()).toEqual({ status: 'unchanged' });
    expect(s.rec.certificates).toHaveLength(1);
    expect(s.rec.policies).toHaveLength(1);
  });
});

describe('policy hot reload', () => {
  it('swaps in a changed ConfigMap, rejects a broken one with the last good set serving, and recovers', async () => {
    const s = await setup();
    const before = await post(s.server.port, [s.first.ca.cert]);
    expect(before.json.response.allowed).toBe(false);

    const files = samplePolicyFiles();
    const warnOnly = { ...files, 'argocd-prod.yaml': files['argocd-prod.yaml']!.replace('mode: enforce', 'mode: warn') };
    updateVolume(s.policiesDir, warnOnly);
    await s.rec.until(() => s.rec.policies.length === 2, 'the policy reload');
    expect(s.rec.policies[1]).toEqual({ ok: true, policies: 3 });
    const warned = await post(s.server.port, [s.first.ca.cert]);
    expect(warned.json.response.allowed).toBe(true);
    expect(warned.json.response.warnings.join(' ')).toContain('argocd-prod');

    // A typo: the schema rejects unknown fields, so the whole new set is refused.
    const broken = { ...warnOnly, 'argocd-prod.yaml': warnOnly['argocd-prod.yaml']!.replace('  allow:', '  alow:') };
    updateVolume(s.policiesDir, broken);
    await s.rec.until(() => s.rec.policies.length === 3, 'the rejected reload');
    expect(s.rec.policies[2]).toMatchObject({ ok: false, policies: 3 });
    expect(s.rec.policies[2]!.error).toMatch(/argocd-prod\.yaml:\d+:\d+/);
    const error = s.log.entries().find((e) => e.msg.startsWith('policy reload rejected'));
    expect(error?.level).toBe(50);
    const still = await post(s.server.port, [s.first.ca.cert]);
    expect(still.json.response.allowed).toBe(true); // the warn-only set, not the broken one, not the original

    updateVolume(s.policiesDir, files);
    await s.rec.until(() => s.rec.policies.length === 4, 'the recovery');
    expect(s.rec.policies[3]).toEqual({ ok: true, policies: 3 });
    expect((await post(s.server.port, [s.first.ca.cert])).json.response.allowed).toBe(false);
  });

  it('reloads once per swap, however many events the swap makes', async () => {
    const s = await setup();
    const files = samplePolicyFiles();
    for (let i = 1; i <= 3; i++) {
      updateVolume(s.policiesDir, { ...files, 'staging-warn.yaml': `${files['staging-warn.yaml']}\n# revision ${i}\n` });
      await s.rec.until(() => s.rec.policies.length === 1 + i, `reload ${i}`);
    }
    // No late reload for the swaps' events: the count stays put past the debounce.
    expect(await steady(() => s.rec.policies.length, 300)).toBe(4);
    expect(s.log.entries().filter((e) => e.msg === 'policies reloaded')).toHaveLength(3);
  });
});
