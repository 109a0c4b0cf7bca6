import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyObjects, describeE2e, kubectl, namespace, serviceAccount } from './support/cluster.js';
import { deployment } from './support/objects.js';
import { startSession, type Session } from './support/session.js';
import { startStampWebhook, type StampWebhook } from './support/webhook.js';

const NS = 'prod-explore';
describeE2e('explore', () => {
  let s: Session; let stamp: StampWebhook; const dir = mkdtempSync(path.join(tmpdir(), 'cap-'));
  beforeAll(async () => {
    s = await startSession({ extraArgs: ['--capture-dir', dir, '--capture-dry-runs'] });
    await namespace(NS);
    stamp = await startStampWebhook('m-e2e-explore', 'explore.e2e.driftguard.io');
    await stamp.register(NS);
    await new Promise((r) => setTimeout(r, 3000));
  });
  afterAll(async () => { await stamp?.close(); await s?.dg.stop(); });
  it('x', async () => {
    const argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    const hpa = await serviceAccount('kube-system', 'horizontal-pod-autoscaler');
    await kubectl('admin', ['create', 'clusterrolebinding', 'e2e-hpa-x', '--clusterrole=system:controller:horizontal-pod-autoscaler', `--serviceaccount=kube-system:horizontal-pod-autoscaler`]);
    const out: any = {};
    out.create = await applyObjects(argocd, [deployment(NS, 'web')], ['--server-side', '--field-manager=argocd-controller']);
    out.update = await kubectl(argocd, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], { input: JSON.stringify(deployment(NS, 'web', { image: 'x:2' })) });
    out.dry = await kubectl(argocd, ['apply', '--server-side', '--dry-run=server', '--field-manager=argocd-controller', '-f', '-'], { input: JSON.stringify(deployment(NS, 'web', { image: 'x:3' })) });
    out.scale = await kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=5']);
    out.hpa = await kubectl(hpa, ['scale', 'deployment/web', '-n', NS, '--replicas=4']);
    out.edit = await kubectl('alice', ['patch', 'deployment/web', '-n', NS, '-p', '{"spec":{"replicas":7}}']);
    out.del = await kubectl(argocd, ['delete', 'deployment/web', '-n', NS, '--cascade=foreground']);
    await new Promise((r) => setTimeout(r, 500));
    const caps = readdirSync(dir, { recursive: true }).map(String);
    writeFileSync('/tmp/e2eb-explore.json', JSON.stringify({ out, caps: caps.map((c) => { try { return [c, readFileSync(path.join(dir, c), 'utf8')]; } catch { return [c, null]; } }), stamp: stamp.reviews, records: s.dg.records() }, null, 1));
    expect(1).toBe(1);
  });
});
