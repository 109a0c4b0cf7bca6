/**
 * The built-in Kubernetes kinds driftguard knows by name: API group, plural resource, kubectl's
 * short names, and scope. One table for every use: lint (which group a kind lives in), `explain` /
 * `history` (kubectl-style KIND/NAME), and the parent kind of a Scale request (Events, audit).
 * Custom resources are not here; callers fall back to kubectl's plural guess.
 */
export interface BuiltinKind {
  kind: string;
  group: string;
  /** The plural resource name, as in RBAC and webhook rules. */
  resource: string;
  /** kubectl's short names. */
  shortNames?: readonly string[];
  clusterScoped?: true;
}

const core = (kind: string, resource: string, extra: Partial<BuiltinKind> = {}): BuiltinKind => ({ kind, group: '', resource, ...extra });
const of =
  (group: string) =>
  (kind: string, resource: string, extra: Partial<BuiltinKind> = {}): BuiltinKind => ({ kind, group, resource, ...extra });
const apps = of('apps');
const batch = of('batch');
const net = of('networking.k8s.io');
const rbac = of('rbac.authorization.k8s.io');
const cluster = { clusterScoped: true } as const;

export const BUILTIN_KINDS: readonly BuiltinKind[] = [
  core('ConfigMap', 'configmaps', { shortNames: ['cm'] }),
  core('Secret', 'secrets'),
  core('Service', 'services', { shortNames: ['svc'] }),
  core('ServiceAccount', 'serviceaccounts', { shortNames: ['sa'] }),
  core('Pod', 'pods', { shortNames: ['po'] }),
  core('PersistentVolumeClaim', 'persistentvolumeclaims', { shortNames: ['pvc'] }),
  core('Endpoints', 'endpoints', { shortNames: ['ep'] }),
  core('LimitRange', 'limitranges', { shortNames: ['limits'] }),
  core('ResourceQuota', 'resourcequotas', { shortNames: ['quota'] }),
  core('ReplicationController', 'replicationcontrollers', { shortNames: ['rc'] }),
  core('Namespace', 'namespaces', { shortNames: ['ns'], ...cluster }),
  core('Node', 'nodes', { shortNames: ['no'], ...cluster }),
  core('PersistentVolume', 'persistentvolumes', { shortNames: ['pv'], ...cluster }),
  apps('Deployment', 'deployments', { shortNames: ['deploy'] }),
  apps('StatefulSet', 'statefulsets', { shortNames: ['sts'] }),
  apps('DaemonSet', 'daemonsets', { shortNames: ['ds'] }),
  apps('ReplicaSet', 'replicasets', { shortNames: ['rs'] }),
  apps('ControllerRevision', 'controllerrevisions'),
  batch('Job', 'jobs'),
  batch('CronJob', 'cronjobs', { shortNames: ['cj'] }),
  of('autoscaling')('HorizontalPodAutoscaler', 'horizontalpodautoscalers', { shortNames: ['hpa'] }),
  of('policy')('PodDisruptionBudget', 'poddisruptionbudgets', { shortNames: ['pdb'] }),
  net('Ingress', 'ingresses', { shortNames: ['ing'] }),
  net('NetworkPolicy', 'networkpolicies', { shortNames: ['netpol'] }),
  net('IngressClass', 'ingressclasses', cluster),
  rbac('Role', 'roles'),
  rbac('RoleBinding', 'rolebindings'),
  rbac('ClusterRole', 'clusterroles', cluster),
  rbac('ClusterRoleBinding', 'clusterrolebindings', cluster),
  of('storage.k8s.io')('StorageClass', 'storageclasses', { shortNames: ['sc'], ...cluster }),
  of('scheduling.k8s.io')('PriorityClass', 'priorityclasses', { shortNames: ['pc'], ...cluster }),
  of('admissionregistration.k8s.io')('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', cluster),
  of('admissionregistration.k8s.io')('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', cluster),
  of('apiextensions.k8s.io')('CustomResourceDefinition', 'customresourcedefinitions', { shortNames: ['crd', 'crds'], ...cluster }),
];

const byResource = new Map(BUILTIN_KINDS.map((k) => [`${k.group}/${k.resource}`, k]));

/** The built-in kind served as `group`/`resource`, e.g. apps/deployments. */
export function builtinByResource(group: string, resource: string): BuiltinKind | undefined {
  return byResource.get(`${group}/${resource}`);
}

/** The built-in kind a person means by a word: its plural, its kind in any case, or a short name. */
export function builtinByName(word: string): BuiltinKind | undefined {
  const w = word.toLowerCase();
  return BUILTIN_KINDS.find((k) => k.resource === w || k.kind.toLowerCase() === w || (k.shortNames ?? []).includes(w));
}

/** kubectl's UnsafeGuessKindToResource, plus the core kinds it gets wrong. */
const IRREGULAR_PLURALS: Readonly<Record<string, string>> = { endpoints: 'endpoints' };

export function guessPlural(kind: string): string {
  const lower = kind.toLowerCase();
  const irregular = IRREGULAR_PLURALS[lower];
  if (irregular !== undefined) return irregular;
  if (lower.endsWith('s')) return `${lower}es`;
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

/* What lint reads from the table: which API group each kind lives in and whether it is
 * cluster-scoped. Custom resources are unknown here, so lint never warns about them. */
export interface KnownKind {
  group: string;
  /** The resource name (plural) as written in RBAC rules and webhook rules. */
  resource: string;
  clusterScoped?: true;
}

export const KNOWN_KINDS: Readonly<Record<string, KnownKind>> = Object.fromEntries(
  BUILTIN_KINDS.map((k) => [
    k.kind,
    { group: k.group, resource: k.resource, ...(k.clusterScoped ? { clusterScoped: true as const } : {}) },
  ]),
);

/** Groups whose kinds are all listed above: only for these does lint say "not in this group". */
export const BUILTIN_GROUPS: ReadonlySet<string> = new Set(Object.values(KNOWN_KINDS).map((k) => k.group));

/** The built-in Kind an author probably meant by `text` (a plural, a lowercase name, kind/subresource). */
export function kindFor(text: string): string | undefined {
  const base = text.split('/')[0]!.trim().toLowerCase();
  if (base === '') return undefined;
  for (const [kind, k] of Object.entries(KNOWN_KINDS)) {
    if (kind.toLowerCase() === base || k.resource === base || `${kind.toLowerCase()}s` === base) return kind;
  }
  return undefined;
}
