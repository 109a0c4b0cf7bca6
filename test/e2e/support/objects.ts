/** Objects the e2e scenarios write: GitOps-tracked Deployments and ConfigMaps. */
export type Obj = Record<string, any>;

/** What Argo CD stamps on what it deploys (the default tracking since Argo CD 3.0). */
function argocdTracking(app: string, kind: string, group: string, ns: string, name: string): Record<string, string> {
  return { 'argocd.argoproj.io/tracking-id': `${app}:${group}/${kind}:${ns}/${name}` };
}

/** What Flux's kustomize-controller labels every object it applies with. */
export function fluxLabels(kustomization: string, ns = 'flux-system'): Record<string, string> {
  return { 'kustomize.toolkit.fluxcd.io/name': kustomization, 'kustomize.toolkit.fluxcd.io/namespace': ns };
}

export interface DeploymentOptions {
  /** The Argo CD application that tracks it (the default), or `flux` for a Flux Kustomization. */
  app?: string;
  flux?: string;
  replicas?: number;
  image?: string;
  env?: Record<string, string>;
}

export function deployment(ns: string, name: string, opts: DeploymentOptions = {}): Obj {
  const meta =
    opts.flux !== undefined
      ? { labels: { app: name, ...fluxLabels(opts.flux) } }
      : { labels: { app: name }, annotations: argocdTracking(opts.app ?? 'shop', 'Deployment', 'apps', ns, name) };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, ...meta },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: opts.image ?? 'registry.example.com/shop/web:1.0.0',
              env: Object.entries(opts.env ?? { LOG_LEVEL: 'info' }).map(([k, v]) => ({ name: k, value: v })),
            },
          ],
        },
      },
    },
  };
}

export function configMap(ns: string, name: string, data: Record<string, string>, opts: { app?: string; flux?: string } = {}): Obj {
  const meta =
    opts.flux !== undefined
      ? { labels: fluxLabels(opts.flux) }
      : { annotations: argocdTracking(opts.app ?? 'shop', 'ConfigMap', '', ns, name) };
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...meta }, data };
}
