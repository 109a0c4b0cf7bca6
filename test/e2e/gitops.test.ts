/**
 * The GitOps controllers as the real API server sees them: Argo CD's application controller and
 * Flux's kustomize-controller, each with a real service-account token, applying server-side with
 * their own field manager. Create, update, a drifted field healed, a prune.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd as argocdAccount,
  ARGOCD_USERNAME as ARGOCD,
  argoSync,
  callsOn,
  describeE2e,
  eventually,
  flux as fluxAccount,
  FLUX_USERNAME as FLUX,
  fluxReconcile,
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
import { deployment } from './support/objects.js';
import { cli, recordsOf, settled, summary } from './support/records.js';
import { sample } from '../support/prom.js';

const ARGO_NS = 'prod-gitops';
const FLUX_NS = 'apps-gitops';

describeE2e('GitOps controllers on a real API server', () => {
  let dg: Driftguard;
  let argocd: ServiceAccount;
  let flux: ServiceAccount;

  const explain = async (ns: string, name: string) => {
    const r = await cli(['explain', `deployment/${name}`, '-n', ns, dg.recordsFile, '--all', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Obj;
  };

  beforeAll(async () => {
    ({ dg } = await installDriftguard());
    await namespace(ARGO_NS);
    await namespace(FLUX_NS);
    argocd = await argocdAccount();
    flux = await fluxAccount();
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('Argo CD creates, updates, heals a drifted field and prunes; every write is in the ledger', async () => {
    expect(await argoSync(argocd, deployment(ARGO_NS, 'web', { replicas: 2 }))).toBe('deployment.apps/web serverside-applied\n');
    await argoSync(argocd, deployment(ARGO_NS, 'web', { replicas: 2, image: 'registry.example.com/shop/web:1.1.0' }));
    await settled(dg);
    const created = recordsOf(dg, ARGO_NS, 'web', 'change');
    expect(summary(created)).toEqual([
      expect.stringMatching(`^entry CREATE - ${ARGOCD} argocd-controller /kind,`),
      expect.stringMatching(`^final CREATE - ${ARGOCD} argocd-controller /kind,`),
      `entry UPDATE - ${ARGOCD} argocd-controller /spec/template/spec/containers/0/image`,
      `final UPDATE - ${ARGOCD} argocd-controller /spec/template/spec/containers/0/image`,
    ]);
    expect(created.every((r) => r.actorClass === 'gitops')).toBe(true);
    expect(created[2]!.owner).toEqual({ tool: 'argocd', application: 'shop', source: expect.any(String) });
    expect(recordsOf(dg, ARGO_NS, 'web', 'violation')).toEqual([]);

    // Drift: the break-glass group scales by hand (allowed, with a warning), then the self-heal.
    const scaled = await kubectl('carol', ['scale', 'deployment/web', '-n', ARGO_NS, '--replicas=5']);
    expect(scaled.code).toBe(0);
    expect((await getJson('admin', ['deployment', 'web', '-n', ARGO_NS])).spec.replicas).toBe(5);
    await argoSync(argocd, deployment(ARGO_NS, 'web', { replicas: 2, image: 'registry.example.com/shop/web:1.1.0' }));
    expect((await getJson('admin', ['deployment', 'web', '-n', ARGO_NS])).spec.replicas).toBe(2);
    await settled(dg);
    const replicas = (await explain(ARGO_NS, 'web')).fields.find((f: Obj) => f.path === '/spec/replicas');
    expect(replicas).toMatchObject({
      value: 2,
      drift: false,
      lastWriter: { username: ARGOCD },
      reverted: { by: ARGOCD, driftBy: 'carol@example.com' },
    });

    // Prune: Argo CD deletes with propagationPolicy Foreground.
    await kubectlOk(argocd, ['delete', 'deployment/web', '-n', ARGO_NS, '--cascade=foreground', '--wait=true']);
    await settled(dg);
    const del = recordsOf(dg, ARGO_NS, 'web', 'change').filter((r) => r.operation === 'DELETE');
    expect(summary(del)).toEqual([`final DELETE - ${ARGOCD} - `]);
    expect(recordsOf(dg, ARGO_NS, 'web', 'violation').map((r) => r.decision)).toEqual(['break-glass']);
  });

  it('Flux kustomize-controller: dry run then apply, update, heal, prune; dry runs leave no record', async () => {
    const api = (image = 'registry.example.com/apps/api:2.0.0', replicas = 3) =>
      deployment(FLUX_NS, 'api', { flux: 'apps', replicas, image });
    await fluxReconcile(flux, api());
    await fluxReconcile(flux, api('registry.example.com/apps/api:2.1.0'));
    await settled(dg);
    const changes = recordsOf(dg, FLUX_NS, 'api', 'change');
    // Two reconciles, each a dry run and an apply: only the applies are recorded.
    expect(changes.map((r) => `${r.stage} ${r.operation}`)).toEqual(['entry CREATE', 'final CREATE', 'entry UPDATE', 'final UPDATE']);
    expect(new Set(changes.map((r) => `${r.actor.username} ${r.fieldManager} ${r.actorClass}`))).toEqual(
      new Set([`${FLUX} kustomize-controller gitops`]),
    );
    expect(changes[2]!.owner).toEqual({ tool: 'flux', kind: 'Kustomization', name: 'apps', namespace: 'flux-system' });

    // A person cannot drift it; the HPA may (an exception of the policy): the drift Flux heals.
    const denied = await kubectl('alice', ['scale', 'deployment/api', '-n', FLUX_NS, '--replicas=9']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe(
      'Error from server (Forbidden): admission webhook "validate.driftguard.io" denied the request: driftguard: policy flux-apps: ' +
        `alice@example.com may not change deployments/scale ${FLUX_NS}/api (managed by Flux Kustomization flux-system/apps): /spec/replicas. ` +
        'This object is reconciled by Flux: change it in Git.\n',
    );
    const hpa = await hpaAccount();
    expect(await putScale(hpa, 'apps', 'deployments', FLUX_NS, 'api', 6)).toMatchObject({ code: 0, stderr: '' });
    await fluxReconcile(flux, api('registry.example.com/apps/api:2.1.0'));
    expect((await getJson('admin', ['deployment', 'api', '-n', FLUX_NS])).spec.replicas).toBe(3);
    await settled(dg);
    const replicas = (await explain(FLUX_NS, 'api')).fields.find((f: Obj) => f.path === '/spec/replicas');
    expect(replicas).toMatchObject({ value: 3, drift: false, lastWriter: { username: FLUX }, reverted: { by: FLUX, driftBy: HPA } });

    // Prune: kustomize-controller deletes what left Git (background propagation, kubectl's default).
    await kubectlOk(flux, ['delete', 'deployment/api', '-n', FLUX_NS]);
    await eventually('the Deployment to be gone', async () =>
      (await kubectl('admin', ['get', 'deployment', 'api', '-n', FLUX_NS])).code === 1 ? true : undefined,
    );
    await settled(dg);
    const all = recordsOf(dg, FLUX_NS, 'api');
    expect(summary(all.filter((r) => r.operation === 'DELETE'))).toEqual([`final DELETE - ${FLUX} - `]);
    expect(all.filter((r) => r.type === 'violation').map((r) => `${r.decision} ${r.actor.username}`)).toEqual(['denied alice@example.com']);
  });
  it('the calls of one write share one parse where the API server sends the same bytes', async () => {
    const web = (image: string) => deployment(ARGO_NS, 'shared-parse', { image });
    await argoSync(argocd, web('registry.example.com/shop/web:1.0.0'));
    const before = await dg.metrics();
    await argoSync(argocd, web('registry.example.com/shop/web:1.0.1'));
    await settled(dg);
    const after = await dg.metrics();
    const delta = (route: string) => callsOn(after, route) - callsOn(before, route);
    const reused = sample(after, 'driftguard_review_parses_reused_total')! - sample(before, 'driftguard_review_parses_reused_total')!;
    // The validating call's bytes differ from the entry's in the object's generation only, bumped
    // after mutating admission: it is answered from the entry's parse. No exit call any more.
    expect({ entry: delta('/observe/entry'), exit: delta('/observe/exit'), validate: delta('/validate'), reused }).toEqual({
      entry: 1,
      exit: 0,
      validate: 1,
      reused: 1,
    });
  });
});
