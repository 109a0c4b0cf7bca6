/**
 * The one e2e harness every file of test/e2e/ starts from:
 * - control plane access: the cluster the global setup started (test/e2e/cluster/global-setup.ts),
 *   kubectl as a given identity, `eventually` (re-exported from ./cluster.js);
 * - driftguard installed: `installDriftguard()` renders the base, starts `node dist/cli.js serve`,
 *   registers the webhooks and waits until the API server calls them;
 * - the GitOps actors: Argo CD's application controller and Flux's kustomize-controller with real
 *   service-account tokens, and the writes they make (`argoSync`, `fluxReconcile`).
 */
import path from 'node:path';
import { REPO } from '../../support/fixtures.js';
import {
  applyObjects,
  eventually,
  existingServiceAccount,
  kubectl,
  kubectlOk,
  namespace,
  serviceAccount,
  type ServiceAccount,
} from './cluster.js';
import {
  callsOn,
  install,
  renderInstall,
  startDriftguard,
  shippedWebhooksAt,
  webhooksForPolicies,
  type Driftguard,
  type DriftguardOptions,
  type Obj,
} from './driftguard.js';

export * from './cluster.js';
export * from './driftguard.js';

/** The suite's own policies (test/e2e/policies/): what most files serve. */
export const E2E_POLICIES = path.join(REPO, 'test/e2e/policies');

export interface Session {
  dg: Driftguard;
  /** The rendered install (kubectl kustomize manifests). */
  objects: Obj[];
  certDir: string;
  /** The three webhook configurations applied, pointed at dg: what puts the registration back. */
  webhooks: Obj[];
}

export interface InstallOptions extends Partial<DriftguardOptions> {
  /** A render made beforehand (install.test.ts dry-runs it first); rendered here when absent. */
  rendered?: { objects: Obj[]; certDir: string };
  /**
   * `policies` (the default): the registration `driftguard manifests --policies` prints for the
   * policies served. `shipped`: the base's own, which follows the sample policies.
   */
  registration?: 'policies' | 'shipped';
}

/**
 * driftguard installed as users install it: the base rendered and applied, `serve` on loopback as
 * its service account (unless `withCluster: false`), the webhook configurations pointed at it and
 * in effect.
 */
export async function installDriftguard(opts: InstallOptions = {}): Promise<Session> {
  const { rendered, registration = 'policies', ...serve } = opts;
  const { objects, certDir } = rendered ?? (await renderInstall());
  await applyObjects(
    'admin',
    objects.filter((o) => o.kind === 'Namespace'),
  );
  const policies = serve.policies ?? E2E_POLICIES;
  const dg = await startDriftguard({ certDir, ...serve, policies });
  await install({ objects, certDir }, dg.port);
  const webhooks =
    registration === 'policies' ? await webhooksForPolicies(policies, certDir, dg.port) : await shippedWebhooksAt(certDir, dg.port);
  if (registration === 'policies') await applyObjects('admin', webhooks);
  await waitForWebhooks(dg);
  return { dg, objects, certDir, webhooks };
}

/**
 * A namespace the sample policies cover (prod-*), so the shipped registration's matchConditions let
 * a ConfigMap write in it through: where waitForWebhooks probes by default.
 */
const PROBE_NAMESPACE = 'prod-e2e-probe';

/**
 * The API server picks a new webhook configuration up from its informer, not at once. Wait until a
 * server-side dry run of a ConfigMap in `namespace` (one the registration sends ConfigMaps from) has
 * reached both routes (the validating webhook and the entry observer).
 */
export async function waitForWebhooks(dg: Driftguard, opts: { namespace?: string; routes?: string[] } = {}): Promise<void> {
  const routes = opts.routes ?? ['/validate', '/observe/entry'];
  const ns = opts.namespace ?? PROBE_NAMESPACE;
  await namespace(ns);
  const base = await dg.metrics().then((m) => routes.map((r) => callsOn(m, r)));
  await eventually(
    'the webhook registrations to take effect',
    async () => {
      await kubectl('admin', ['create', 'configmap', 'driftguard-e2e-probe', '-n', ns, '--dry-run=server']);
      const m = await dg.metrics();
      return routes.every((r, i) => callsOn(m, r) > base[i]!) ? true : undefined;
    },
    30_000,
  );
}

export const ARGOCD_USERNAME = 'system:serviceaccount:argocd:argocd-application-controller';
export const FLUX_USERNAME = 'system:serviceaccount:flux-system:kustomize-controller';
export const HPA_USERNAME = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';

/** Argo CD's application controller: its service account, bound to cluster-admin as Argo CD installs it. */
export function argocd(): Promise<ServiceAccount> {
  return serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
}

/** Flux's kustomize-controller: its service account, bound to cluster-admin as Flux installs it. */
export function flux(): Promise<ServiceAccount> {
  return serviceAccount('flux-system', 'kustomize-controller', 'cluster-admin');
}

/** The controller manager's HPA service account (kube-system/horizontal-pod-autoscaler). */
export function hpa(): Promise<ServiceAccount> {
  return existingServiceAccount('kube-system', 'horizontal-pod-autoscaler');
}

/** What Argo CD's sync does with server-side apply: its field manager, conflicts forced. */
export function argoSync(as: ServiceAccount, o: Obj | Obj[], extraArgs: string[] = []): Promise<string> {
  return kubectlOk(as, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', ...extraArgs, '-f', '-'], {
    input: toInput(o),
  });
}

/** Objects as kubectl reads them from stdin: JSON documents one after another. */
function toInput(o: Obj | Obj[]): string {
  return (Array.isArray(o) ? o : [o]).map((x) => JSON.stringify(x)).join('\n');
}

/** What kustomize-controller does per reconcile: a server-side dry run, then the apply, ownership forced. */
export async function fluxReconcile(as: ServiceAccount, o: Obj | Obj[]): Promise<string> {
  const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=kustomize-controller', '-f', '-'];
  await kubectlOk(as, [...args, '--dry-run=server'], { input: toInput(o) });
  return kubectlOk(as, args, { input: toInput(o) });
}
