/**
 * driftguard installed as users install it, judged by a real kube-apiserver: the rendered base is
 * accepted (server dry run, then for real), the registrations reach driftguard, and the first
 * GitOps write and the first manual edit go the way the README says.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  applyObjects,
  argocd,
  argoSync,
  callsOn,
  cluster,
  describeE2e,
  getJson,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  renderInstall,
  WEBHOOK_KINDS,
  webhooksAt,
  type Driftguard,
  type Obj,
} from './support/harness.js';
import { deployment } from './support/objects.js';

describeE2e('install on a real API server', () => {
  let rendered: { objects: Obj[]; certDir: string };
  let dg: Driftguard;
  let dryRun: string;
  let firstDryRun: { code: number; stdout: string; stderr: string };
  /** Another e2e file ran first and installed driftguard: the namespace is there already. */
  let namespaceExisted: boolean;

  beforeAll(async () => {
    // The files share one cluster and run in any order: an earlier file installed driftguard too.
    // The first dry run below is about a cluster without driftguard's namespace, so remove it.
    await kubectlOk('admin', ['delete', 'namespace', 'driftguard', '--ignore-not-found', '--wait=true', '--timeout=60s']);
    rendered = await renderInstall();
    namespaceExisted = (await kubectl('admin', ['get', 'namespace', 'driftguard'])).code === 0;
    // A server dry run cannot create the namespace the rest lives in: on a fresh cluster the
    // namespaced objects fail with NotFound (see the first test). With the namespace there, all pass.
    firstDryRun = await kubectl('admin', ['apply', '--dry-run=server', '-f', '-'], {
      input: rendered.objects.map((o) => JSON.stringify(o)).join('\n'),
    });
    await applyObjects(
      'admin',
      rendered.objects.filter((o) => o.kind === 'Namespace'),
    );
    dryRun = await applyObjects('admin', rendered.objects, ['--dry-run=server']);
    // The registration as the base ships it: what the third test compares with.
    ({ dg } = await installDriftguard({ rendered, registration: 'shipped' }));
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('accepts every object of the rendered base, in a server dry run and for real', async () => {
    const names = rendered.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names.length).toBeGreaterThan(10);
    // On a fresh cluster only the namespace's absence stops a dry run, once per namespaced object.
    const namespaced = rendered.objects.filter((o) => o.metadata.namespace !== undefined);
    if (namespaceExisted) {
      // The files share one cluster and run in an order of vitest's choosing.
      expect(firstDryRun.code, firstDryRun.stderr).toBe(0);
    } else {
      expect(firstDryRun.code).toBe(1);
      expect(firstDryRun.stderr.trim().split('\n')).toEqual(
        namespaced.map(() => expect.stringContaining('namespaces "driftguard" not found')),
      );
    }
    // One "(server dry run)" line per object: none was rejected.
    expect(dryRun.split('\n').filter((l) => l.endsWith('(server dry run)'))).toHaveLength(rendered.objects.length);
    for (const o of rendered.objects) {
      const ns = o.metadata.namespace === undefined ? [] : ['-n', o.metadata.namespace];
      const live = await getJson('admin', [o.kind, o.metadata.name, ...ns]);
      expect(live.metadata.name).toBe(o.metadata.name);
    }
  });

  it("accepts the overlays' custom kinds with their CRDs installed (generated from cert-manager's and Prometheus Operator's API types)", async () => {
    const crdDir = path.join(cluster().binDir, 'crds');
    const crds = [
      'cert-manager.io_certificates',
      'cert-manager.io_issuers',
      'monitoring.coreos.com_podmonitors',
      'monitoring.coreos.com_prometheusrules',
    ];
    // Server-side: the Prometheus Operator CRDs are larger than the last-applied annotation may be.
    for (const crd of crds) await kubectlOk('admin', ['apply', '--server-side', '-f', path.join(crdDir, `${crd}.yaml`)]);
    await kubectlOk('admin', [
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      ...crds.map((c) => `crd/${c.split('_')[1]}.${c.split('_')[0]}`),
    ]);

    const manifests = path.dirname(rendered.certDir);
    const overlays = [path.join(manifests, 'overlays/cert-manager'), path.join(manifests, 'monitoring')];
    const custom: Obj[] = [];
    for (const dir of overlays) {
      const objects = parseAllDocuments(await kubectlOk('admin', ['kustomize', dir]))
        .map((d) => d.toJS() as Obj | null)
        .filter((o): o is Obj => o !== null);
      const out = await applyObjects('admin', objects, ['--dry-run=server']);
      expect(
        out.split('\n').filter((l) => l.endsWith('(server dry run)')),
        dir,
      ).toHaveLength(objects.length);
      custom.push(...objects.filter((o) => /cert-manager\.io|monitoring\.coreos\.com/.test(o.apiVersion)));
    }
    expect(custom.map((o) => o.kind).sort()).toEqual(['Certificate', 'Certificate', 'Issuer', 'Issuer', 'PodMonitor', 'PrometheusRule']);
    await applyObjects('admin', custom);
    for (const o of custom) expect((await getJson('admin', [o.kind, o.metadata.name, '-n', 'driftguard'])).spec).toMatchObject(o.spec);

    // The CRDs do check: a PrometheusRule with a misspelt field is refused.
    const rule = custom.find((o) => o.kind === 'PrometheusRule')!;
    const broken = structuredClone(rule);
    broken.metadata.name = 'driftguard-broken';
    broken.spec.groups[0].rules[0] = { alrt: 'Typo', expr: 'vector(1)' };
    const refused = await kubectl('admin', ['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(broken) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unknown field|alrt/);
  });

  it('registers, with `manifests --url`, the webhook configurations as shipped but for clientConfig', async () => {
    for (const shipped of webhooksAt(rendered.objects, dg.port)) {
      const live = await getJson('admin', [shipped.kind, shipped.metadata.name]);
      expect(live.webhooks).toHaveLength(shipped.webhooks.length);
      for (const [i, w] of shipped.webhooks.entries()) {
        const l = live.webhooks[i];
        // kustomize's replacement copies the Secret's base64 with line breaks; `manifests --ca` ends
        // the PEM with a newline the file has not. The same certificate either way.
        const ca = (c: { caBundle: string }) => ({ ...c, caBundle: Buffer.from(c.caBundle, 'base64').toString('utf8').trim() });
        for (const key of Object.keys(w))
          expect(key === 'clientConfig' ? ca(l[key]) : l[key], `${shipped.metadata.name} ${key}`).toEqual(
            key === 'clientConfig' ? ca(w[key]) : w[key],
          );
      }
    }
    expect(rendered.objects.filter((o) => WEBHOOK_KINDS.includes(o.kind))).toHaveLength(2);
  });

  it("lets Argo CD create a Deployment and denies a person's kubectl scale with the policy's message", async () => {
    await namespace('prod-install');
    const before = callsOn(await dg.metrics(), '/validate');
    await argoSync(await argocd(), deployment('prod-install', 'web', { app: 'shop' }));
    expect(callsOn(await dg.metrics(), '/validate')).toBeGreaterThan(before);

    const scaled = await kubectl('alice', ['scale', 'deployment/web', '-n', 'prod-install', '--replicas=5']);
    expect(scaled.code).toBe(1);
    expect(scaled.stderr).toMatch(/^Error from server \(Forbidden\): admission webhook "validate\.driftguard\.io" denied the request: /);
    expect(scaled.stderr).toContain('Change Git instead');
    expect((await getJson('admin', ['deployment', 'web', '-n', 'prod-install'])).spec.replicas).toBe(2);
    // The violation record is written before the answer: it is on disk already.
    expect(dg.records().filter((r) => r.type === 'violation')).toEqual([
      expect.objectContaining({
        decision: 'denied',
        policy: 'argocd-prod',
        actor: expect.objectContaining({ username: 'alice@example.com' }),
        resource: expect.objectContaining({ namespace: 'prod-install', name: 'web', subResource: 'scale' }),
      }),
    ]);
  });
});
