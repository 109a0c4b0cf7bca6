/**
 * The real controller manager's traffic through driftguard: the HPA's service account scaling
 * through the scale subresource, the deployment controller's status writes, the garbage collector's
 * deletes after an owner is removed; and a break-glass user.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd as argocdAccount,
  argoSync,
  describeE2e,
  eventually,
  getJson,
  hpa as hpaAccount,
  HPA_USERNAME as HPA,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  putScale,
  type Driftguard,
  type Obj,
  type ServiceAccount,
} from './support/harness.js';
import { configMap, deployment } from './support/objects.js';
import { recordsOf, settled, summary } from './support/records.js';

const NS = 'prod-controllers';
const GC = 'system:serviceaccount:kube-system:generic-garbage-collector';
const DC = 'system:serviceaccount:kube-system:deployment-controller';

describeE2e('the controller manager and break-glass on a real API server', () => {
  let dg: Driftguard;
  let argocd: ServiceAccount;
  const captures = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-capture-'));
  const captured = (): Obj[] =>
    readdirSync(captures)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(path.join(captures, f), 'utf8')) as Obj);

  beforeAll(async () => {
    ({ dg } = await installDriftguard({ extraArgs: ['--capture-dir', captures] }));
    await namespace(NS);
    argocd = await argocdAccount();
    await argoSync(argocd, deployment(NS, 'web', { replicas: 2 }));
  });
  afterAll(async () => {
    await dg?.stop();
    rmSync(captures, { recursive: true, force: true });
  });

  it("the deployment controller's status writes and ReplicaSets never reach driftguard (status is not a covered subresource)", async () => {
    const d = await eventually('the deployment controller to write status and the revision', async () => {
      const d = await getJson('admin', ['deployment', 'web', '-n', NS, '--show-managed-fields']);
      return d.status?.observedGeneration === d.metadata.generation && d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1'
        ? d
        : undefined;
    });
    // The controller wrote the revision annotation and status through /status, as its own service account.
    expect(d.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'kube-controller-manager', operation: 'Update', subresource: 'status' }),
    );
    const rs = await getJson('admin', ['replicasets', '-n', NS, '-l', 'app=web']);
    expect(rs.items).toHaveLength(1);
    expect(rs.items[0].metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', name: 'web', uid: d.metadata.uid });
    await settled(dg);
    expect(dg.records().filter((r) => r.actor?.username === DC)).toEqual([]);
    // Only Argo CD's create is in the ledger: no status, no revision annotation.
    expect(summary(recordsOf(dg, NS, 'web')).map((l) => l.split(' ').slice(0, 4).join(' '))).toEqual([
      'entry CREATE - system:serviceaccount:argocd:argocd-application-controller',
      'final CREATE - system:serviceaccount:argocd:argocd-application-controller',
    ]);
  });

  it("the HPA's service account scales through the scale subresource: allowed, recorded as a controller, no field manager", async () => {
    const hpa = await hpaAccount();
    const before = recordsOf(dg, NS, 'web').length;
    const r = await putScale(hpa, 'apps', 'deployments', NS, 'web', 4);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 } });
    await settled(dg);
    const recs = recordsOf(dg, NS, 'web').slice(before);
    expect(summary(recs)).toEqual(['entry', 'final'].map((s) => `${s} UPDATE scale ${HPA} - /spec/replicas`));
    const final = recs.find((r) => r.stage === 'final');
    expect(final).toMatchObject({
      actorClass: 'controller',
      resource: { group: 'apps', resource: 'deployments', subResource: 'scale', kind: 'Scale', namespace: NS, name: 'web' },
      changes: [{ path: '/spec/replicas', op: 'replace', old: 2, new: 4 }],
    });
    expect(final!.fieldManager).toBeUndefined();
    // The Scale is the parent's: its uid is the Deployment's.
    expect(final!.objectUid).toBe((await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.uid);
    // And the deployment controller follows: the ReplicaSet is scaled (not a covered kind).
    await eventually('the ReplicaSet to be scaled', async () => {
      const rs = await getJson('admin', ['replicasets', '-n', NS, '-l', 'app=web']);
      return rs.items[0]?.spec.replicas === 4 ? true : undefined;
    });
  });

  it('a break-glass user: allowed, with the Warning line and a break-glass record carrying the reason and expiry', async () => {
    const before = recordsOf(dg, NS, 'web').length;
    const image = '/spec/template/spec/containers/0/image';
    expect(await kubectl('carol', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:1.0.1-hotfix'])).toEqual({
      code: 0,
      stdout: 'deployment.apps/web image updated\n',
      stderr: 'Warning: driftguard: break-glass (argocd-prod) by carol@example.com: E2E-1 hotfix while Git is frozen\n',
    });
    await settled(dg);
    const recs = recordsOf(dg, NS, 'web').slice(before);
    expect(summary(recs)).toEqual([
      `entry UPDATE - carol@example.com kubectl-set ${image}`,
      `break-glass UPDATE - carol@example.com kubectl-set ${image}`,
      `final UPDATE - carol@example.com kubectl-set ${image}`,
    ]);
    expect(recs.find((r) => r.decision === 'break-glass')).toMatchObject({
      allowed: true,
      mode: 'enforce',
      policy: 'argocd-prod',
      breakGlass: { reason: 'E2E-1 hotfix while Git is frozen', expires: '2099-01-01T00:00:00Z' },
      actor: { groups: ['e2e:developers', 'breakglass', 'system:authenticated'] },
    });
  });

  it("the garbage collector deletes a tracked dependent after its owner is pruned: allowed, recorded, with the GC's delete options", async () => {
    await argoSync(argocd, deployment(NS, 'owner'));
    const owner = await getJson('admin', ['deployment', 'owner', '-n', NS]);
    const cm = configMap(NS, 'owner-config', { LOG_LEVEL: 'info' });
    cm.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'owner', uid: owner.metadata.uid }];
    await argoSync(argocd, cm);
    const dependent = await getJson('admin', ['configmap', 'owner-config', '-n', NS]);

    await kubectlOk(argocd, ['delete', 'deployment/owner', '-n', NS]);
    await eventually('the garbage collector to delete the ConfigMap', async () =>
      (await kubectl('admin', ['get', 'configmap', 'owner-config', '-n', NS])).code === 1 ? true : undefined,
    );
    await settled(dg);
    const recs = recordsOf(dg, NS, 'owner-config').filter((r) => r.operation === 'DELETE');
    expect(summary(recs)).toEqual([`final DELETE - ${GC} - `]);
    expect(recs[0]).toMatchObject({ actorClass: 'controller', objectUid: dependent.metadata.uid });
    expect(recordsOf(dg, NS, 'owner-config', 'violation')).toEqual([]);

    // What the GC sends: DeleteOptions with the dependent's uid and resourceVersion as preconditions.
    await eventually('the capture to be written', async () =>
      captured().some((c) => c.request.operation === 'DELETE' && c.request.name === 'owner-config') ? true : undefined,
    );
    const review = captured().find((c) => c.request.operation === 'DELETE' && c.request.name === 'owner-config')!;
    expect(review.request.userInfo.username).toBe(GC);
    expect(review.request.options).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'meta.k8s.io/v1',
      preconditions: { uid: dependent.metadata.uid, resourceVersion: dependent.metadata.resourceVersion },
      propagationPolicy: 'Background',
    });
    expect(review.request.object).toBeNull();
    expect(review.request.oldObject.metadata.uid).toBe(dependent.metadata.uid);
  });
});
