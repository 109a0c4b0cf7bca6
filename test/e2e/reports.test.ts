/**
 * serve --reports on a real API server: the OpenReports CRDs as published (reports-api v0.2.1,
 * scripts/e2e-cluster.sh), so the API server validates every report driftguard applies. The CRDs
 * are installed while serve runs; a person's denied edit, a break-glass change, an HPA scale inside
 * the policy's exception and an Argo CD revert each move the Deployment's report within 5 s;
 * deleting the Deployment has the garbage collector remove its report; two replicas hand the
 * Lease over when the leader is killed, and the new leader keeps the finding only the old one saw.
 */
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
import { applyObjects } from './support/cluster.js';
import { httpsGet, startDriftguard, webhooksForPolicies, type Driftguard, type Obj } from './support/driftguard.js';
import { installDriftguard, waitForWebhooks } from './support/harness.js';
import { deployment } from './support/objects.js';
import { REPO } from '../support/fixtures.js';

const NS = 'prod-reports';
const POLICIES = path.join(REPO, 'test/e2e/policies');
const IMAGE_BY_KEY = '/spec/template/spec/containers[name=app]/image';
const REPORTS = ['--reports', 'openreports'];

describeE2e('serve --reports: OpenReports on a real API server', () => {
  let dg: Driftguard;
  let argocd: Identity;
  let uid: string;
  const web = (image = 'registry.example.com/shop/web:1.0.0') => deployment(NS, 'web', { replicas: 2, image });
  const argoSync = (o: Obj) =>
    kubectlOk(argocd, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(o),
    });
  const report = async (name = `driftguard-${uid}`): Promise<Obj | undefined> => {
    const r = await kubectl('admin', ['get', 'reports.openreports.io', name, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
  };
  /** The report once `check` holds for it, within `ms`. */
  const reportWhere = (what: string, check: (r: Obj) => boolean, ms = 5_000) =>
    eventually(
      what,
      async () => {
        const r = await report();
        return r !== undefined && check(r) ? r : undefined;
      },
      ms,
    );
  const written = async (d: Driftguard) => {
    const m = /^driftguard_reports_written_total\{kind="Report"\} (\d+)$/m.exec(await d.metrics());
    return m === null ? 0 : Number(m[1]);
  };

  beforeAll(async () => {
    ({ dg } = await installDriftguard({ extraArgs: REPORTS }));
    await namespace(NS);
    argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    await argoSync(web());
    uid = (await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.uid as string;
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('without the CRDs: warns once, says so on /readyz, keeps serving; a denied edit is still denied', async () => {
    const denied = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:6.6.6']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('denied the request');
    const ready = JSON.parse(await httpsGet(`${dg.url}/readyz`, dg.caFile));
    expect(ready.status).toBe('ready');
    expect(ready.warnings).toContain(
      'report CRDs not installed (reports.openreports.io, clusterreports.openreports.io): no reports are written until they are',
    );
    expect(dg.stderr().match(/report CRDs are not installed/g)).toHaveLength(1);
  });

  it('CRDs installed while serve runs: the report appears without a restart, pass with the denied attempt', async () => {
    const dir = path.join(cluster().binDir, 'crds', 'reports');
    for (const f of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml'])
      await kubectlOk('admin', ['apply', '--server-side', '-f', path.join(dir, f)]);
    await kubectlOk('admin', ['wait', '--for=condition=Established', 'crd/reports.openreports.io', '--timeout=30s']);
    // The loop looks the CRDs up again every 10 s.
    const r = await reportWhere('the report after the CRDs appeared', (x) => x.summary?.pass === 1, 20_000);
    expect(r.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid }]);
    expect(r.scope).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web', uid });
    expect(r.source).toBe('driftguard');
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ policy: 'argocd-prod', result: 'pass', source: 'driftguard', category: 'GitOps drift' });
    expect(r.results[0].message).toContain('alice@example.com may not change Deployment prod-reports/web');
    expect(r.results[0].properties).toMatchObject({ deniedAttempts: '1' });
    expect(r.results[0].properties['denied.1']).toMatch(new RegExp(`alice@example.com: ${IMAGE_BY_KEY.replace(/[[\]]/g, '\\$&')}$`));
    // kubectl leaves managedFields out unless asked: one field manager, by server-side apply.
    const managed = await getJson('admin', ['reports.openreports.io', r.metadata.name, '-n', NS, '--show-managed-fields']);
    expect(managed.metadata.managedFields.map((m: Obj) => [m.manager, m.operation])).toEqual([['driftguard-reports', 'Apply']]);
    expect((await readyWarnings(dg)).filter((w) => w.startsWith('report CRDs'))).toEqual([]);
  });

  it('a second denied edit: the report lists both, newest first, within 5 s', async () => {
    expect((await kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=9'])).code).toBe(1);
    const r = await reportWhere('two denied attempts', (x) => x.results[0]?.properties?.deniedAttempts === '2');
    expect(r.results[0].properties['denied.1']).toMatch(/alice@example\.com: \/spec\/replicas$/);
    expect(r.summary).toMatchObject({ pass: 1, fail: 0, warn: 0 });
  });

  it('a break-glass change: warn with who, the field and the expiry, within 5 s', async () => {
    const r0 = await kubectl('carol', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:1.0.1-hotfix']);
    expect(r0.code, r0.stderr).toBe(0);
    const r = await reportWhere('warn', (x) => x.summary?.warn === 1);
    expect(r.results[0]).toMatchObject({
      policy: 'argocd-prod',
      result: 'warn',
      message: 'driftguard: break-glass (argocd-prod) by carol@example.com: E2E-1 hotfix while Git is frozen',
    });
    expect(r.results[0].properties).toMatchObject({
      fields: IMAGE_BY_KEY,
      breakGlassBy: 'carol@example.com',
      breakGlassExpires: '2099-01-01T00:00:00Z',
      deniedAttempts: '2',
    });
    expect(r.results[0].properties[IMAGE_BY_KEY]).toMatch(/^set by carol@example\.com at /);
    expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
  });

  it('an HPA scale inside the exception: the report is written again and stays warn on the image only', async () => {
    const before = await written(dg);
    const hpa = await existingServiceAccount('kube-system', 'horizontal-pod-autoscaler');
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 4)).toMatchObject({ code: 0 });
    await eventually('the loop to apply the report again', async () => ((await written(dg)) > before ? true : undefined), 5_000);
    const r = (await report())!;
    expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
    expect(r.results[0].properties.fields).toBe(IMAGE_BY_KEY);
    expect(JSON.stringify(r.results)).not.toContain('/spec/replicas (set by');
  });

  it('Argo CD reverts: pass again within 5 s; kubectl get reports shows it through the printer columns', async () => {
    await argoSync(web());
    await reportWhere('pass after the revert', (x) => x.summary?.pass === 1 && x.summary?.warn === 0);
    const table = await kubectlOk('admin', ['get', 'reports', '-A', '-o', 'wide']);
    const [header, ...rows] = table.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAMESPACE', 'NAME', 'KIND', 'NAME', 'PASS', 'FAIL', 'WARN', 'ERROR', 'SKIP', 'AGE']);
    const row = rows.map((l) => l.split(/\s+/)).find((c) => c[1] === `driftguard-${uid}`);
    expect(row?.slice(0, 9)).toEqual([NS, `driftguard-${uid}`, 'Deployment', 'web', '1', '0', '0', '0', '0']);
  });

  it('two replicas: one writer; SIGKILL the leader and the other takes over within the lease time, keeping its findings', async () => {
    // A finding only the first replica saw: carol's break-glass change (its records, not the second's).
    const glass = await kubectl('carol', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:1.0.2-hotfix']);
    expect(glass.code, glass.stderr).toBe(0);
    await reportWhere('warn by the first replica', (x) => x.summary?.warn === 1);
    const second = await startDriftguard({ policies: POLICIES, certDir: path.dirname(dg.caFile), extraArgs: REPORTS });
    try {
      const leader = async (d: Driftguard) => /^driftguard_reports_leader (\d)$/m.exec(await d.metrics())?.[1];
      expect(await leader(dg)).toBe('1');
      expect(await leader(second)).toBe('0');
      // The API server now calls the second replica: its records, its share of the findings.
      await applyObjects('admin', await webhooksForPolicies(POLICIES, path.dirname(dg.caFile), second.port));
      await waitForWebhooks(second);
      expect((await kubectl('alice', ['label', 'deployment/web', '-n', NS, 'x=1'])).stderr).toContain('denied the request');
      const stillBefore = (await report())!;
      expect(stillBefore.results[0].properties.deniedAttempts).toBe('2');
      const killedAt = Date.now();
      dg.child().kill('SIGKILL');
      await eventually('the second replica to lead', async () => ((await leader(second)) === '1' ? true : undefined), 20_000);
      // The defaults (src/reports/lease.ts): a 15 s lease, tried every 2 s.
      expect(Date.now() - killedAt).toBeLessThan(17_000 + 2_000);
      const r = await reportWhere(
        'the new leader to write what it saw',
        (x) => x.results[0]?.properties?.['denied.1']?.endsWith('/metadata/labels/x'),
        5_000,
      );
      // Nothing lost, nothing twice: the old leader's two denials kept beside the new one, and its
      // break-glass finding still warn, though the new leader's own records hold only a denial (adopt.ts).
      expect(r.results).toHaveLength(1);
      expect(r.results[0].properties.deniedAttempts).toBe('3');
      expect(r.results[0].properties['denied.2']).toMatch(/alice@example\.com: \/spec\/replicas$/);
      expect(r.results[0]).toMatchObject({
        result: 'warn',
        message: 'driftguard: break-glass (argocd-prod) by carol@example.com: E2E-1 hotfix while Git is frozen',
      });
      expect(r.results[0].properties).toMatchObject({ fields: IMAGE_BY_KEY, breakGlassBy: 'carol@example.com' });
      expect(r.results[0].properties[IMAGE_BY_KEY]).toMatch(/^set by carol@example\.com at /);
      expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
      expect(second.stderr()).toContain('report writer: reports in the cluster listed');
    } finally {
      await second.stop();
      await dg.restart();
      await applyObjects('admin', await webhooksForPolicies(POLICIES, path.dirname(dg.caFile), dg.port));
      await waitForWebhooks(dg);
    }
  });

  it('deleting the Deployment: the garbage collector removes its report', async () => {
    await kubectlOk(argocd, ['delete', 'deployment/web', '-n', NS, '--wait=true']);
    await eventually('the report to be gone', async () => ((await report()) === undefined ? true : undefined), 30_000);
  });
});

async function readyWarnings(d: Driftguard): Promise<string[]> {
  const ready = JSON.parse(await httpsGet(`${d.url}/readyz`, d.caFile));
  return (ready.warnings as string[] | undefined) ?? [];
}
