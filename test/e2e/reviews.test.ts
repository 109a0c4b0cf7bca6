/**
 * What the real API server sends to driftguard's webhooks, pinned: the facts docs/api-server.md
 * states, each checked here against reviews captured by `serve --capture-dir` (the validating
 * webhook's) and the change records the observers wrote (the mutating webhooks').
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd as argocdAccount,
  argoSync as sync,
  callsOn,
  describeE2e,
  getJson,
  hpa as hpaAccount,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  putScale,
  steady,
  type Driftguard,
  type Obj,
  type ServiceAccount,
} from './support/harness.js';
import { configMap, deployment } from './support/objects.js';
import { recordsOf, settled } from './support/records.js';

const NS = 'prod-reviews';

describeE2e('what the real API server sends', () => {
  let dg: Driftguard;
  let argocd: ServiceAccount;
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-capture-'));
  /** The captured reviews so far, oldest first. */
  const captured = (): Obj[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Obj);
  /**
   * The captures once none has been added for 300 ms (or an error after 20 s of growth): they are written by a background queue, so
   * the last write's may land after the write returned (it did once, and was counted for the next).
   */
  const capturedSettled = async (): Promise<Obj[]> => {
    await steady('the captures', () => captured().length);
    return captured();
  };
  /** Run a write and return the validating reviews it produced. */
  const reviewsOf = async (write: () => Promise<unknown>): Promise<Obj[]> => {
    const before = (await capturedSettled()).length;
    await write();
    // The records and the captures are two files written independently: wait for both at once.
    const [, after] = await Promise.all([settled(dg), capturedSettled()]);
    return after.slice(before).map((c) => c.request);
  };
  const reviewOf = async (write: () => Promise<unknown>, what = ''): Promise<Obj> => {
    let out: unknown;
    const fresh = await reviewsOf(async () => (out = await write()));
    expect(fresh, `${what} ${JSON.stringify(out)}`).toHaveLength(1);
    return fresh[0]!;
  };
  const argoSync = (o: Obj) => sync(argocd, o);
  /** The Deployment most tests write to, as Argo CD syncs it (whether or not an earlier test made it). */
  const webExists = async () => {
    await argoSync(deployment(NS, 'web'));
    await settled(dg);
  };

  beforeAll(async () => {
    ({ dg } = await installDriftguard({ extraArgs: ['--capture-dir', dir, '--capture-dry-runs'] }));
    await namespace(NS);
    argocd = await argocdAccount();
  });
  afterAll(async () => {
    await dg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a validating webhook sees a CREATE with uid, creationTimestamp and generation set; the mutating ones see none of them', async () => {
    const req = await reviewOf(() => argoSync(deployment(NS, 'web')));
    expect(req.operation).toBe('CREATE');
    expect(req.oldObject).toBeNull();
    expect(req.options).toEqual({
      kind: 'CreateOptions',
      apiVersion: 'meta.k8s.io/v1',
      fieldManager: 'argocd-controller',
      fieldValidation: 'Strict',
    });
    expect(req.object.metadata).toMatchObject({ uid: expect.any(String), creationTimestamp: expect.any(String), generation: 1 });
    expect(req.object.metadata.resourceVersion).toBeUndefined();
    expect(req.object.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'argocd-controller', operation: 'Apply' })]);
    const stages = recordsOf(dg, NS, 'web', 'change').filter((r) => r.operation === 'CREATE');
    expect(stages.map((r) => [r.stage, r.objectUid])).toEqual([
      ['entry', undefined],
      ['final', req.object.metadata.uid],
    ]);
  });

  it('every webhook call has its own uid: the two calls of one write (entry observer, validating), and each write', async () => {
    await argoSync(deployment(NS, 'uids'));
    await settled(dg);
    const uids = recordsOf(dg, NS, 'uids', 'change').map((r) => r.uid);
    expect(uids).toHaveLength(2);
    await argoSync(deployment(NS, 'uids', { image: 'registry.example.com/shop/web:1.0.1' }));
    await argoSync(deployment(NS, 'uids', { image: 'registry.example.com/shop/web:1.0.2' }));
    await settled(dg);
    const all = recordsOf(dg, NS, 'uids', 'change').map((r) => r.uid);
    expect(all).toHaveLength(6);
    expect(new Set(all).size).toBe(6);
    expect(all.slice(0, 2)).toEqual(uids);
  });

  it('an UPDATE: oldObject is the stored object; object keeps its resourceVersion and, at validation, has the generation bumped', async () => {
    await webExists();
    const stored = await getJson('admin', ['deployment', 'web', '-n', NS]);
    const req = await reviewOf(() => argoSync(deployment(NS, 'web', { image: 'registry.example.com/shop/web:1.0.3' })));
    expect(req.operation).toBe('UPDATE');
    expect(req.oldObject.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    expect(req.object.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    expect(req.object.metadata.generation).toBe(stored.metadata.generation + 1);
    expect(req.oldObject.metadata.generation).toBe(stored.metadata.generation);
    // Status is the stored status: a main-resource write cannot change it.
    expect(req.object.status).toEqual(req.oldObject.status);
  });

  it("each kubectl command's options: the field manager it names, and fieldValidation only where kubectl validates", async () => {
    await webExists();
    const cmd = async (as: 'alice' | 'admin', args: string[], input?: string) =>
      (await reviewOf(() => kubectl(as, args, input === undefined ? {} : { input }), args.join(' '))).options;
    const d = ['deployment/web', '-n', NS];
    const update = (extra: Obj) => ({ kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', ...extra });
    expect(await cmd('alice', ['set', 'image', ...d, 'app=x:1'])).toEqual(update({ fieldManager: 'kubectl-set' }));
    expect(await cmd('alice', ['rollout', 'restart', ...d])).toEqual(update({ fieldManager: 'kubectl-rollout' }));
    expect(await cmd('alice', ['patch', ...d, '-p', '{"spec":{"replicas":5}}'])).toEqual(update({ fieldManager: 'kubectl-patch' }));
    expect(await cmd('alice', ['label', ...d, 'x=y'])).toEqual(update({ fieldManager: 'kubectl-label' }));
    expect(await cmd('alice', ['annotate', ...d, 'x=y'])).toEqual(update({ fieldManager: 'kubectl-annotate' }));
    expect(await cmd('alice', ['scale', ...d, '--replicas=5'])).toEqual(update({}));
    const manifest = JSON.stringify(deployment(NS, 'web', { replicas: 5 }));
    expect(await cmd('alice', ['apply', '-f', '-'], manifest)).toEqual(
      update({ fieldManager: 'kubectl-client-side-apply', fieldValidation: 'Strict' }),
    );
    // A server-side apply that conflicts with another manager's fields is refused before any webhook.
    const conflicting = await reviewsOf(() => kubectl('alice', ['apply', '--server-side', '-f', '-'], { input: manifest }));
    expect(conflicting).toEqual([]);
    expect(await cmd('alice', ['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest)).toEqual(
      update({ fieldManager: 'kubectl', fieldValidation: 'Strict' }),
    );
    expect(await cmd('alice', ['replace', '-f', '-'], manifest)).toEqual(
      update({ fieldManager: 'kubectl-replace', fieldValidation: 'Strict' }),
    );
    expect(await cmd('alice', ['create', '-f', '-'], JSON.stringify(configMap(NS, 'made-by-hand', { a: '1' })))).toEqual({
      kind: 'CreateOptions',
      apiVersion: 'meta.k8s.io/v1',
      fieldManager: 'kubectl-create',
      fieldValidation: 'Strict',
    });
    // A delete: DeleteOptions with kubectl's default propagation spelled out; no field manager.
    expect(await cmd('alice', ['delete', ...d])).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'meta.k8s.io/v1',
      propagationPolicy: 'Background',
    });
    expect(await cmd('alice', ['delete', ...d, '--cascade=foreground'])).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'meta.k8s.io/v1',
      propagationPolicy: 'Foreground',
    });
  });

  it('a dry run: request.dryRun true and options.dryRun ["All"], for the validating and the mutating webhooks alike (no record)', async () => {
    await webExists();
    const before = dg.records().length;
    const routes = ['/observe/entry', '/validate'];
    const calls = async () => {
      const m = await dg.metrics();
      return routes.map((r) => callsOn(m, r));
    };
    const callsBefore = await calls();
    const req = await reviewOf(() =>
      kubectl('alice', ['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], {
        input: JSON.stringify(deployment(NS, 'web', { replicas: 8 })),
      }),
    );
    expect(req.dryRun).toBe(true);
    expect(req.options).toEqual({
      kind: 'UpdateOptions',
      apiVersion: 'meta.k8s.io/v1',
      dryRun: ['All'],
      fieldManager: 'kubectl',
      fieldValidation: 'Strict',
    });
    await settled(dg);
    expect(dg.records().slice(before)).toEqual([]);
    // Both webhooks were called for it.
    const callsAfter = await calls();
    routes.forEach((r, i) => expect(callsAfter[i], r).toBeGreaterThan(callsBefore[i]!));
  });

  it('a Scale: autoscaling/v1 on the deployments resource, identity metadata only, one resourceVersion for object and oldObject', async () => {
    await webExists();
    const parent = await getJson('admin', ['deployment', 'web', '-n', NS]);
    const req = await reviewOf(() => kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=6']));
    expect(req).toMatchObject({
      kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      requestKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      requestResource: { group: 'apps', version: 'v1', resource: 'deployments' },
      subResource: 'scale',
      requestSubResource: 'scale',
      operation: 'UPDATE',
    });
    const meta = {
      name: 'web',
      namespace: NS,
      uid: parent.metadata.uid,
      resourceVersion: parent.metadata.resourceVersion,
      creationTimestamp: parent.metadata.creationTimestamp,
    };
    expect(req.oldObject).toEqual({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: meta,
      spec: { replicas: parent.spec.replicas },
      status: { replicas: parent.status.replicas ?? 0, selector: 'app=web' },
    });
    expect(req.object).toEqual({ ...req.oldObject, spec: { replicas: 6 } });
  });

  it("identities: a static user's uid and groups, a service account's uid and groups, and the extra a token carries", async () => {
    await webExists();
    const alice = await reviewOf(() => kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=7']));
    expect(alice.userInfo).toEqual({ username: 'alice@example.com', uid: 'alice-uid', groups: ['e2e:developers', 'system:authenticated'] });
    const sa = await getJson('admin', ['serviceaccount', 'argocd-application-controller', '-n', 'argocd']);
    const argo = await reviewOf(() => argoSync(deployment(NS, 'web', { image: 'registry.example.com/shop/web:1.0.4' })));
    expect(argo.userInfo).toEqual({
      username: 'system:serviceaccount:argocd:argocd-application-controller',
      uid: sa.metadata.uid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
    });
    // What the API server knows of the token (SelfSubjectReview): a credential id in extra, which
    // capture drops (and records never carry).
    const whoami = JSON.parse(await kubectlOk(argocd, ['auth', 'whoami', '-o', 'json']));
    expect(whoami.status.userInfo.extra).toEqual({ 'authentication.kubernetes.io/credential-id': [expect.stringMatching(/^JTI=/)] });
    expect(argo.userInfo.extra).toBeUndefined();
  });

  it('a PUT that loses the resourceVersion race: the mutating webhooks are called, the validating one is not', async () => {
    await webExists();
    const hpa = await hpaAccount();
    const url = `/apis/apps/v1/namespaces/${NS}/deployments/web/scale`;
    const stale = JSON.parse(await kubectlOk(hpa, ['get', '--raw', url]));
    await argoSync(deployment(NS, 'web', { image: 'registry.example.com/shop/web:1.0.5' }));
    await settled(dg);
    const current = (await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.resourceVersion;
    expect(current).not.toBe(stale.metadata.resourceVersion);
    const before = recordsOf(dg, NS, 'web').length;
    const capturedBefore = captured().length;
    stale.spec.replicas = 9;
    const r = await kubectl(hpa, ['replace', '--raw', url, '-f', '-'], { input: JSON.stringify(stale) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the object has been modified; please apply your changes to the latest version and try again');
    await settled(dg);
    const recs = recordsOf(dg, NS, 'web').slice(before);
    // The mutating webhooks saw the current stored object as oldObject, not the stale one the PUT
    // was based on: the resourceVersion precondition is checked after them, before validation.
    expect(recs.map((x) => `${x.stage ?? x.decision} ${x.oldResourceVersion}`)).toEqual([`entry ${current}`]);
    expect(captured().length).toBe(capturedBefore);
    // And the HPA's next try, from a fresh GET, is a whole request: entry and final.
    expect((await putScale(hpa, 'apps', 'deployments', NS, 'web', 9)).code).toBe(0);
    await settled(dg);
    expect(
      recordsOf(dg, NS, 'web')
        .slice(before + 1)
        .map((x) => x.stage),
    ).toEqual(['entry', 'final']);
  });

  it("a foreground delete: the DELETE, then the garbage collector's UPDATE removing the foregroundDeletion finalizer", async () => {
    await argoSync(configMap(NS, 'cascade', { a: '1' }));
    const reviews = await reviewsOf(() =>
      kubectl(argocd, ['delete', 'configmap/cascade', '-n', NS, '--cascade=foreground', '--wait=true']),
    );
    expect(reviews.map((r) => r.operation)).toEqual(['DELETE', 'UPDATE']);
    const del = reviews[0]!;
    expect(del.object).toBeNull();
    expect(del.oldObject.metadata.finalizers).toBeUndefined();
    expect(del.oldObject.metadata.deletionTimestamp).toBeUndefined();
    const gc = reviews[1]!;
    expect(gc.userInfo.username).toBe('system:serviceaccount:kube-system:generic-garbage-collector');
    expect(gc.oldObject.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(gc.oldObject.metadata.deletionTimestamp).toEqual(expect.any(String));
    expect(gc.object.metadata.finalizers).toBeUndefined();
    expect(gc.options).toEqual({ kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' });
  });
});
