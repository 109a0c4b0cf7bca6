/**
 * Built-in Kubernetes kinds, for lint only: which API group each lives in and whether it is
 * cluster-scoped. Custom resources are unknown here, so lint never warns about them.
 */
export interface KnownKind {
  group: string;
  /** The resource name (plural) as written in RBAC rules and webhook rules. */
  resource: string;
  clusterScoped?: true;
}

export const KNOWN_KINDS: Readonly<Record<string, KnownKind>> = {
  // core ("")
  ConfigMap: { group: '', resource: 'configmaps' },
  Secret: { group: '', resource: 'secrets' },
  Service: { group: '', resource: 'services' },
  ServiceAccount: { group: '', resource: 'serviceaccounts' },
  Pod: { group: '', resource: 'pods' },
  PersistentVolumeClaim: { group: '', resource: 'persistentvolumeclaims' },
  Endpoints: { group: '', resource: 'endpoints' },
  LimitRange: { group: '', resource: 'limitranges' },
  ResourceQuota: { group: '', resource: 'resourcequotas' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  Namespace: { group: '', resource: 'namespaces', clusterScoped: true },
  Node: { group: '', resource: 'nodes', clusterScoped: true },
  PersistentVolume: { group: '', resource: 'persistentvolumes', clusterScoped: true },
  // apps
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  ControllerRevision: { group: 'apps', resource: 'controllerrevisions' },
  // batch
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
  // autoscaling, policy
  HorizontalPodAutoscaler: { group: 'autoscaling', resource: 'horizontalpodautoscalers' },
  PodDisruptionBudget: { group: 'policy', resource: 'poddisruptionbudgets' },
  // networking
  Ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
  NetworkPolicy: { group: 'networking.k8s.io', resource: 'networkpolicies' },
  IngressClass: { group: 'networking.k8s.io', resource: 'ingressclasses', clusterScoped: true },
  // rbac
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', clusterScoped: true },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', clusterScoped: true },
  // storage, scheduling, admission, apiextensions
  StorageClass: { group: 'storage.k8s.io', resource: 'storageclasses', clusterScoped: true },
  PriorityClass: { group: 'scheduling.k8s.io', resource: 'priorityclasses', clusterScoped: true },
  ValidatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', clusterScoped: true },
  MutatingWebhookConfiguration: { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations', clusterScoped: true },
  CustomResourceDefinition: { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', clusterScoped: true },
};

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
