/**
 * Faults and lockout on a real API server: driftguard stopped (the validating webhook fails closed,
 * kube-system and driftguard's own namespace stay writable, the observers fail open), started again
 * on the same port (no manual step), and its serving certificate renewed while writes continue.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  apiRequest,
  applyObjects,
  argocd as argocdAccount,
  argoSync,
  callsOn,
  describeE2e,
  driftguardCli,
  eventually,
  getJson,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  waitForWebhooks,
  type Obj,
  type ServiceAccount,
  type Session,
} from './support/harness.js';
import { deployment } from './support/objects.js';

const NS = 'prod-faults';

/** The serving certificate driftguard presents on a new TLS handshake. */
function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(new X509Certificate(raw).fingerprint256);
    });
    socket.on('error', reject);
  });
}

describeE2e('faults and lockout', () => {
  let s: Session;
  let argocd: ServiceAccount;
  const patchImage = (tag: string) =>
    kubectl(argocd, [
      'patch',
      'deployment/web',
      '-n',
      NS,
      '--field-manager=argocd-controller',
      '-p',
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'app', image: `registry.example.com/shop/web:${tag}` }] } } } }),
    ]);

  const image = async (): Promise<string> =>
    (await getJson('admin', ['deployment', 'web', '-n', NS])).spec.template.spec.containers[0].image;

  beforeAll(async () => {
    s = await installDriftguard();
    await namespace(NS);
    argocd = await argocdAccount();
    await argoSync(argocd, deployment(NS, 'web'));
  });
  // Every test starts where the install left things, whichever ran before it (or alone): a
  // running driftguard and the registration installDriftguard applied.
  afterEach(async () => {
    if (s === undefined) return;
    if (s.dg.child().exitCode !== null || s.dg.child().signalCode !== null) await s.dg.restart();
    await applyObjects('admin', s.webhooks);
    await waitForWebhooks(s.dg);
  });
  afterAll(async () => {
    await s?.dg.stop();
  });

  it('stopped: covered writes fail closed with the failed-calling-webhook error; kube-system and driftguard stay writable', async () => {
    const was = await image();
    await s.dg.stop();
    const refused = await patchImage('2.0.0');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `Error from server (InternalError): Internal error occurred: failed calling webhook "validate.driftguard.io": ` +
        `failed to call webhook: Post "https://127.0.0.1:${s.dg.port}/validate?timeout=5s": dial tcp 127.0.0.1:${s.dg.port}: connect: connection refused`,
    );
    expect(await image()).toBe(was);
    // The two namespaces the webhooks leave out: the control plane's and driftguard's own.
    for (const ns of ['kube-system', 'driftguard']) {
      await kubectlOk('admin', ['create', 'configmap', 'lockout-probe', '-n', ns, '--from-literal=k=v']);
      await kubectlOk('admin', ['patch', 'configmap', 'lockout-probe', '-n', ns, '-p', '{"data":{"k":"w"}}']);
      await kubectlOk('admin', ['delete', 'configmap', 'lockout-probe', '-n', ns]);
    }
  });

  it('started again on the same port: everything works with no manual step', async () => {
    await s.dg.stop();
    await s.dg.restart();
    const before = s.dg.records().length;
    const ok = await patchImage('3.0.0');
    expect(ok.code, ok.stderr).toBe(0);
    const person = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:evil']);
    expect(person.code).toBe(1);
    expect(person.stderr).toContain('admission webhook "validate.driftguard.io" denied the request: ');
    expect(await image()).toBe('registry.example.com/shop/web:3.0.0');
    // Argo CD's entry and final, alice's entry, and her violation.
    const after = await eventually('the records of both writes', async () => {
      const recs = s.dg.records().slice(before);
      return recs.length >= 4 ? recs : undefined;
    });
    // Both observation points answered again: entry and final of Argo CD's write.
    expect(after.filter((r) => r.type === 'change').map((r) => [r.stage, r.actor.username])).toEqual([
      ['entry', argocd.username],
      ['final', argocd.username],
      ['entry', 'alice@example.com'],
    ]);
    expect(after.filter((r) => r.type === 'violation').map((r) => [r.actor.username, r.decision])).toEqual([
      ['alice@example.com', 'denied'],
    ]);
  });

  it('the lockout recovery: with the validating webhook deleted, the unanswered observers fail open', async () => {
    await s.dg.stop();
    try {
      await kubectlOk('admin', ['delete', 'validatingwebhookconfiguration', 'driftguard']);
      await eventually('the write to pass with only the observers registered', async () => {
        const r = await patchImage('4.0.0');
        return r.code === 0 ? r : undefined;
      });
      expect((await getJson('admin', ['mutatingwebhookconfigurations'])).items.map((i: Obj) => i.metadata.name)).toEqual(
        expect.arrayContaining(['0-driftguard-observe-entry']),
      );
      expect(await image()).toBe('registry.example.com/shop/web:4.0.0');
    } finally {
      // Applying the registration again (as `kubectl apply -k manifests` does) puts it back.
      await applyObjects('admin', s.webhooks);
      await s.dg.restart();
      await waitForWebhooks(s.dg);
    }
    const denied = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:evil']);
    expect(denied.stderr).toContain('admission webhook "validate.driftguard.io" denied the request: ');
  });

  it('renews the serving certificate while writes continue, without one failed write', async () => {
    const oldCert = await servedCertificate(s.dg.port);
    const url = `/apis/apps/v1/namespaces/${NS}/deployments/web?fieldManager=argocd-controller`;
    const statuses: number[] = [];
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        n++;
        const r = await apiRequest(argocd, 'PATCH', url, { metadata: { annotations: { 'e2e.driftguard.io/write': String(n) } } });
        statuses.push(r.status);
      }
    })();
    // Writes before the renewal, then at least as many after the new certificate is served.
    const answered = (what: string, n: number) => eventually(what, async () => (statuses.length >= n ? true : undefined));
    await answered('writes before the renewal', 5);
    const callsBefore = callsOn(await s.dg.metrics(), '/validate');
    const reloadsBefore = s.dg.stderr().split('certificate reloaded').length;
    await driftguardCli(['certs', '--out', s.certDir, '--renew', '--san', '127.0.0.1']);
    await eventually('driftguard to log the reload', async () =>
      s.dg.stderr().split('certificate reloaded').length > reloadsBefore ? true : undefined,
    );
    const newCert = await servedCertificate(s.dg.port);
    await answered('writes after the renewal', statuses.length + 5);
    stop = true;
    await writer;
    expect(newCert).not.toBe(oldCert);
    expect(newCert).toBe(new X509Certificate(readFileSync(path.join(s.certDir, 'tls.crt'))).fingerprint256);
    expect(statuses.length).toBeGreaterThanOrEqual(10);
    console.log(`certificate renewal: ${statuses.length} writes during the swap, all answered 200`);
    expect(statuses.filter((c) => c !== 200)).toEqual([]);
    expect(callsOn(await s.dg.metrics(), '/validate')).toBeGreaterThan(callsBefore);
    expect(s.dg.stderr()).not.toContain('certificate reload rejected');
  });
});
