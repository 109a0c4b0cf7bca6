/** `driftguard certs` and `driftguard manifests`: real certificates on disk, checked with a real TLS handshake. */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { serviceNames } from '../../src/certs/generate.js';
import { cli } from '../support/cli.js';
import { SAMPLE_POLICIES } from '../support/fixtures.js';

/** The real clock: the handshakes check validity against it. */
const NOW = new Date();
const DAY = 86_400_000;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'driftguard-certs-'));
const read = (dir: string, f: string) => readFileSync(path.join(dir, f), 'utf8');

/** A TLS handshake against a server holding tls.crt/tls.key, trusting only ca.crt, for one server name. */
async function handshake(dir: string, servername: string): Promise<string | undefined> {
  const server = https.createServer({ cert: read(dir, 'tls.crt'), key: read(dir, 'tls.key') }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port: (server.address() as AddressInfo).port, servername, ca: read(dir, 'ca.crt') },
        () => {
          socket.end();
          resolve(undefined);
        },
      );
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  } finally {
    server.close();
  }
}

describe('driftguard certs', () => {
  it('writes a CA and a serving certificate every DNS form of the Service verifies against', async () => {
    const dir = tmp();
    const out = await cli(['certs', '--service', 'dg', '--namespace', 'guard', '--out', 'pki'], { cwd: dir, now: NOW });
    expect(out.code, out.stderr).toBe(0);
    const pki = path.join(dir, 'pki');
    const ca = new X509Certificate(read(pki, 'ca.crt'));
    const cert = new X509Certificate(read(pki, 'tls.crt'));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    expect(Date.parse(cert.validTo) - NOW.getTime()).toBeGreaterThan(364 * DAY);
    expect(Date.parse(cert.validTo) - NOW.getTime()).toBeLessThan(366 * DAY);
    expect(Date.parse(ca.validTo) - NOW.getTime()).toBeGreaterThan(5 * 364 * DAY);
    expect(statSync(path.join(pki, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(pki, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(out.stdout).toContain('dg.guard.svc');
    // What the API server checks: the chain to the caBundle and the name <svc>.<ns>.svc.
    for (const name of serviceNames('dg', 'guard')) expect(await handshake(pki, name), name).toBeUndefined();
    expect(await handshake(pki, 'dg.other.svc')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('--san adds DNS names and IP addresses (a webhook called by url is verified against its host), and rejects anything else', async () => {
    const dir = tmp();
    const out = await cli(['certs', '--out', 'pki', '--san', '127.0.0.1', '--san', 'webhook.example.com'], { cwd: dir, now: NOW });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('127.0.0.1, webhook.example.com');
    const pki = path.join(dir, 'pki');
    expect(new X509Certificate(read(pki, 'tls.crt')).subjectAltName).toContain('IP Address:127.0.0.1');
    expect(await handshake(pki, 'webhook.example.com')).toBeUndefined();
    expect(await handshake(pki, 'other.example.com')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const bad = await cli(['certs', '--out', 'pki2', '--san', 'https://127.0.0.1:8443'], { cwd: dir, now: NOW });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DG_USAGE');
    expect(bad.stderr).toContain('--san takes a DNS name or an IP address');
  });

  it('refuses to overwrite without --force, and leaves the files as they were', async () => {
    const dir = tmp();
    expect((await cli(['certs', '--out', '.'], { cwd: dir, now: NOW })).code).toBe(0);
    const before = read(dir, 'ca.crt') + read(dir, 'tls.crt');
    const again = await cli(['certs', '--out', '.'], { cwd: dir, now: NOW });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('DG_OUTPUT_EXISTS');
    expect(again.stderr).toContain('--renew');
    expect(read(dir, 'ca.crt') + read(dir, 'tls.crt')).toBe(before);
    const forced = await cli(['certs', '--out', '.', '--force'], { cwd: dir, now: NOW });
    expect(forced.code).toBe(0);
    expect(read(dir, 'ca.crt')).not.toBe(before.slice(0, read(dir, 'ca.crt').length));
  });

  it('--renew keeps the CA (and so the caBundle) and issues a new serving certificate from it', async () => {
    const dir = tmp();
    await cli(['certs', '--out', '.'], { cwd: dir, now: NOW });
    const caBefore = read(dir, 'ca.crt');
    const certBefore = new X509Certificate(read(dir, 'tls.crt'));
    const later = new Date(NOW.getTime() + 60_000);
    const renewed = await cli(['certs', '--out', '.', '--renew'], { cwd: dir, now: later });
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(read(dir, 'ca.crt')).toBe(caBefore);
    const cert = new X509Certificate(read(dir, 'tls.crt'));
    expect(cert.serialNumber).not.toBe(certBefore.serialNumber);
    expect(cert.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
    expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.parse(certBefore.validTo));
    expect(await handshake(dir, 'driftguard.driftguard.svc')).toBeUndefined();
  });

  it("never issues past the CA: a renewal near the CA's end is cut to it, with a warning", async () => {
    const dir = tmp();
    await cli(['certs', '--out', '.', '--ca-days', '30'], { cwd: dir, now: NOW });
    const renewed = await cli(['certs', '--out', '.', '--renew', '--days', '365'], { cwd: dir, now: NOW });
    expect(renewed.code).toBe(0);
    const ca = new X509Certificate(read(dir, 'ca.crt'));
    expect(new X509Certificate(read(dir, 'tls.crt')).validTo).toBe(ca.validTo);
    expect(renewed.stderr).toContain('warning: the CA expires');
    const fresh = await cli(['certs', '--out', 'other'], { cwd: dir, now: NOW });
    expect(fresh.stderr).toBe('');
  });

  it("--renew without a CA, or with a key that is not the CA's, is an input error", async () => {
    const empty = await cli(['certs', '--out', '.', '--renew'], { cwd: tmp(), now: NOW });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('DG_INPUT');
    const a = tmp();
    const b = tmp();
    await cli(['certs', '--out', '.'], { cwd: a, now: NOW });
    await cli(['certs', '--out', '.'], { cwd: b, now: NOW });
    writeFileSync(path.join(a, 'ca.key'), read(b, 'ca.key'));
    const mismatched = await cli(['certs', '--out', '.', '--renew'], { cwd: a, now: NOW });
    expect(mismatched.code).toBe(2);
    expect(mismatched.stderr).toContain('ca.key does not belong to ca.crt');
  });

  it('--client issues a client certificate from the same CA, for the API server', async () => {
    const dir = tmp();
    expect((await cli(['certs', '--out', '.', '--client', 'kube-apiserver'], { cwd: dir, now: NOW })).code).toBe(0);
    const client = new X509Certificate(read(dir, 'client.crt'));
    expect(client.subject).toContain('CN=kube-apiserver');
    expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(client.verify(new X509Certificate(read(dir, 'ca.crt')).publicKey)).toBe(true);
  });

  it('rejects names that are not DNS labels and lifetimes that are not whole days', async () => {
    for (const args of [
      ['--service', 'Drift_Guard'],
      ['--namespace', 'a'.repeat(64)],
      ['--days', '0'],
      ['--days', '1.5'],
      ['--renew', '--force'],
    ]) {
      const out = await cli(['certs', '--out', '.', ...args], { cwd: tmp(), now: NOW });
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toContain('DG_USAGE');
    }
  });
});

describe('driftguard manifests', () => {
  it('fills every webhook caBundle with the CA that signed the serving certificate', async () => {
    const dir = tmp();
    await cli(['certs', '--out', '.'], { cwd: dir, now: NOW });
    const out = await cli(['manifests', '--policies', SAMPLE_POLICIES, '--ca', 'ca.crt'], { cwd: dir });
    expect(out.code, out.stderr).toBe(0);
    const objects = parseAllDocuments(out.stdout).map((d) => d.toJS());
    expect(objects.map((o) => o.kind)).toEqual(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);
    const webhooks = objects.flatMap((o) => o.webhooks);
    expect(webhooks).toHaveLength(2);
    for (const w of webhooks) {
      const pem = Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8');
      expect(new X509Certificate(read(dir, 'tls.crt')).verify(new X509Certificate(pem).publicKey)).toBe(true);
    }
  });

  it('follows --service and --namespace, and leaves out the caBundle without --ca', async () => {
    const out = await cli(['manifests', '--policies', SAMPLE_POLICIES, '--service', 'dg', '--namespace', 'guard'], { cwd: tmp() });
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('no --ca');
    for (const o of parseAllDocuments(out.stdout).map((d) => d.toJS())) {
      const w = o.webhooks[0];
      expect(w.clientConfig.service).toMatchObject({ name: 'dg', namespace: 'guard' });
      expect(w.clientConfig.caBundle).toBeUndefined();
      expect(w.namespaceSelector.matchExpressions[0].values).toEqual(['kube-system', 'guard']);
    }
  });

  it('rejects a --ca that is not a PEM certificate, or is missing', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'not-a-cert.pem'), 'hello');
    writeFileSync(path.join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    for (const f of ['not-a-cert.pem', 'broken.pem', 'missing.pem']) {
      const out = await cli(['manifests', '--policies', SAMPLE_POLICIES, '--ca', f], { cwd: dir });
      expect(out.code, f).toBe(2);
      expect(out.stderr).toContain('DG_INPUT');
      expect(out.stdout).toBe('');
    }
  });
});
