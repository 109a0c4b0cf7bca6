/**
 * The API server's audit log as a records source, on the real API server: it writes its audit log
 * (--audit-log-path, manifests/audit/audit-policy.yaml) and posts its audit batches to
 * `serve --audit-webhook` (test/e2e/cluster/controlplane.ts). A scripted day (Argo CD create, the
 * HPA through scale, a person's denied edit, break-glass, a DELETE and re-CREATE) explained from the
 * audit log alone gives the same answers as from the webhooks' records; then driftguard is stopped
 * (its validating webhook made to fail open, as the observers do) while a person writes: the audit
 * log still has the write, the webhooks' records do not, and explain over both says so.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cluster,
  describeE2e,
  eventually,
  existingServiceAccount,
  getJson,
  kubectl,
  kubectlOk,
  namespace,
  putScale,
  serviceAccount,
  type Identity,
} from './support/cluster.js';
import { type Driftguard, type Obj } from './support/driftguard.js';
import { installDriftguard } from './support/harness.js';
import { deployment } from './support/objects.js';
import { cli, settled } from './support/records.js';

const NS = 'prod-audit-log';
const ARGOCD = 'system:serviceaccount:argocd:argocd-application-controller';
const HPA = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

/** explain's fields, as path -> [value, last writer, class] (what both sources must agree on). */
function answers(explainJson: string): Record<string, [unknown, string, string]> {
  const x = JSON.parse(explainJson);
  return Object.fromEntries(
    x.fields.map((f: Obj) => [
      f.path,
      [
        f.value,
        f.lastWriter.kind === 'webhook'
          ? `webhook ${JSON.stringify(f.lastWriter.webhooks ?? [])} requested by ${f.lastWriter.requestedBy.username}`
          : f.lastWriter.username,
        f.lastWriter.actorClass,
      ],
    ]),
  );
}

describeE2e('the audit log as a records source, on a real API server', () => {
  let dg: Driftguard;
  let argocd: Identity;
  let hpa: Identity;
  const dir = mkdtempSync(path.join(tmpdir(), 'dg-e2e-audit-'));
  const observerOnly = path.join(dir, 'observers.jsonl');
  const liveAudit = path.join(dir, 'live-audit.jsonl');
  /** Split the server's records file: the webhooks' own records and those the audit webhook made. */
  const split = (records: Obj[]): void => {
    const ours = records.filter((r) => r.source !== 'audit-log' && r.resource?.namespace === NS);
    const audited = records.filter((r) => r.source === 'audit-log' && r.resource?.namespace === NS);
    writeFileSync(observerOnly, ours.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(liveAudit, audited.map((r) => JSON.stringify(r)).join('\n') + '\n');
  };
  const argoSync = (o: Obj) =>
    kubectlOk(argocd, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(o),
    });
  let deniedStderr = '';

  beforeAll(async () => {
    const { audit } = cluster();
    ({ dg } = await installDriftguard({
      extraArgs: ['--audit-webhook', '--audit-webhook-port', String(audit.webhookPort), '--audit-webhook-token-file', audit.tokenFile],
    }));
    await namespace(NS);
    argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    hpa = await existingServiceAccount('kube-system', 'horizontal-pod-autoscaler');

    await argoSync(deployment(NS, 'web', { replicas: 2 }));
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 4)).toMatchObject({ code: 0 });
    const denied = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:6.6.6']);
    expect(denied.code).not.toBe(0);
    deniedStderr = denied.stderr;
    await kubectlOk('carol', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=debug']);
    // DELETE and re-CREATE by Argo CD, then the HPA and break-glass on the new object.
    await kubectlOk(argocd, ['delete', 'deployment/web', '-n', NS, '--wait=false']);
    await argoSync(deployment(NS, 'web', { replicas: 2, image: 'registry.example.com/shop/web:1.1.0' }));
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 5)).toMatchObject({ code: 0 });
    await kubectlOk('carol', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=warn']);
    // The live endpoint has every write of the day once the API server's batches came in.
    await eventually(
      `the audit batches of the day (records file ${dg.recordsFile})`,
      async () => (dg.records().filter((r) => r.source === 'audit-log' && r.resource?.namespace === NS).length >= 6 ? true : undefined),
      30_000,
    );
    await settled(dg);
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('explained from the audit log alone: the same answers as from the webhooks', async () => {
    split(dg.records());
    const fromObservers = await cli(['explain', 'deploy/web', '-n', NS, observerOnly, '-o', 'json']);
    expect(fromObservers.code, fromObservers.stderr).toBe(0);
    const fromFile = await cli(['explain', 'deploy/web', '-n', NS, '--audit-log', cluster().audit.logFile, '-o', 'json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromLive = await cli(['explain', 'deploy/web', '-n', NS, liveAudit, '-o', 'json']);
    expect(fromLive.code, fromLive.stderr).toBe(0);

    const expected = answers(fromObservers.stdout);
    expect(expected['/spec/replicas']).toEqual([5, HPA, 'controller']);
    expect(expected['/spec/template/spec/containers[name=app]/env[name=LOG_LEVEL]/value']).toEqual(['warn', 'carol@example.com', 'person']);
    expect(answers(fromFile.stdout)).toEqual(expected);
    expect(answers(fromLive.stdout)).toEqual(expected);
    // The re-CREATE started a new object in both.
    expect(JSON.parse(fromFile.stdout).created).toMatchObject({ by: ARGOCD, actorClass: 'gitops' });
    // The denied edit is no change in the audit log (a 403 there).
    expect(deniedStderr).toContain('denied the request');
    expect(fromFile.stdout).not.toContain('6.6.6');
    // Both sources read together agree: every persisted write was seen.
    const both = await cli(['history', 'deploy/web', '-n', NS, observerOnly, '--audit-log', cluster().audit.logFile, '-o', 'json']);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).not.toContain('no driftguard webhook saw');
  });

  it('driftguard stopped while a person writes: the audit log still attributes the write, the webhooks missed it, explain says so', async () => {
    // Fail open, as the observers do (an operator's choice for the validating webhook too).
    const validating = (await getJson('admin', ['validatingwebhookconfigurations'])).items.find((c: Obj) =>
      c.webhooks.some((w: Obj) => w.clientConfig?.url?.includes(`:${dg.port}/`)),
    );
    const patch = validating.webhooks.map((_: Obj, i: number) => ({
      op: 'replace',
      path: `/webhooks/${i}/failurePolicy`,
      value: 'Ignore',
    }));
    await kubectlOk('admin', [
      'patch',
      'validatingwebhookconfiguration',
      validating.metadata.name,
      '--type=json',
      '-p',
      JSON.stringify(patch),
    ]);
    await dg.stop();
    await kubectlOk('bob', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:9.9.9-while-down']);
    await dg.restart();
    // The API server's webhook backend sends the batch again once driftguard is back.
    await eventually(
      "the down window's write, from the audit batches sent again",
      async () => (dg.records().some((r) => r.source === 'audit-log' && r.actor?.username === 'bob@example.com') ? true : undefined),
      60_000,
    );
    await settled(dg);
    split(dg.records());
    const IMAGE = '/spec/template/spec/containers[name=app]/image';
    const observers = await cli(['explain', 'deploy/web', '-n', NS, observerOnly, '--field', IMAGE, '-o', 'json']);
    const fromObservers = JSON.parse(observers.stdout).fields.find((f: Obj) => f.path === IMAGE);
    expect(fromObservers?.value ?? null).not.toBe('registry.example.com/shop/web:9.9.9-while-down');
    const both = await cli([
      'explain',
      'deploy/web',
      '-n',
      NS,
      observerOnly,
      '--audit-log',
      cluster().audit.logFile,
      '--field',
      IMAGE,
      '-o',
      'json',
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout).fields).toEqual([
      expect.objectContaining({
        path: IMAGE,
        value: 'registry.example.com/shop/web:9.9.9-while-down',
        lastWriter: expect.objectContaining({ username: 'bob@example.com' }),
      }),
    ]);
    expect(both.stderr).toMatch(/note: 1 persisted write\(s\) that no driftguard webhook saw/);
    expect(both.stderr).toContain('UPDATE by bob@example.com');
    const live = await cli(['explain', 'deploy/web', '-n', NS, liveAudit, '--field', IMAGE, '-o', 'json']);
    expect(JSON.parse(live.stdout).fields[0]).toMatchObject({ value: 'registry.example.com/shop/web:9.9.9-while-down' });
  });
});
