/**
 * Who is asking. Identity shapes from docs/kubernetes.md (Identities): ServiceAccounts are
 * system:serviceaccount:NS:NAME; names match exactly (no trimming, no case folding, no prefixes).
 */
import type { UserInfo } from '../k8s/admission.js';
import { compileGlob } from './glob.js';

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** The GitOps controllers each preset stands for, by default namespace. */
export const PRESETS = {
  argocd: { namespace: 'argocd', serviceAccounts: ['argocd-application-controller'] },
  flux: { namespace: 'flux-system', serviceAccounts: ['kustomize-controller', 'helm-controller'] },
} as const;

type PresetName = keyof typeof PRESETS;

/** One actor as a policy names it; policy/schema.ts validates that exactly one of preset, serviceAccount, user, group is set. */
export interface ActorRef {
  preset?: PresetName;
  /** The namespace a preset's controllers run in, when not the preset's default. */
  namespace?: string;
  /** NAMESPACE/NAME. */
  serviceAccount?: string;
  user?: string;
  group?: string;
}

export function presetUsernames(preset: PresetName, namespace?: string): string[] {
  const p = PRESETS[preset];
  return p.serviceAccounts.map((sa) => serviceAccountUsername(namespace ?? p.namespace, sa));
}

/** The control plane: may change covered objects unless a policy says `systemActors: deny`. */
const CONTROL_PLANE_USERS = new Set(['system:kube-controller-manager', 'system:kube-scheduler', 'system:apiserver']);
const KUBE_SYSTEM_SA_PREFIX = `${SERVICE_ACCOUNT_PREFIX}kube-system:`;

export function isControlPlane(user: UserInfo): boolean {
  const name = user.username;
  if (CONTROL_PLANE_USERS.has(name)) return true;
  if (name.startsWith(KUBE_SYSTEM_SA_PREFIX) && name.length > KUBE_SYSTEM_SA_PREFIX.length) return true;
  return Array.isArray(user.groups) && user.groups.includes('system:nodes');
}

export interface ActorMatcher {
  /** As the policy author wrote it, for explanations: "preset argocd", "group oncall". */
  readonly description: string;
  matches(user: UserInfo): boolean;
}

export function compileActor(ref: ActorRef): ActorMatcher {
  if (ref.preset !== undefined) {
    const names = new Set(presetUsernames(ref.preset, ref.namespace));
    const ns = ref.namespace === undefined ? '' : ` (namespace ${ref.namespace})`;
    return { description: `preset ${ref.preset}${ns}`, matches: (u) => names.has(u.username) };
  }
  if (ref.serviceAccount !== undefined) {
    const [ns, name] = ref.serviceAccount.split('/') as [string, string];
    const m = compileGlob(serviceAccountUsername(ns, name));
    return { description: `serviceAccount ${ref.serviceAccount}`, matches: (u) => m(u.username) };
  }
  if (ref.user !== undefined) {
    const m = compileGlob(ref.user);
    return { description: `user ${ref.user}`, matches: (u) => m(u.username) };
  }
  const m = compileGlob(ref.group ?? '');
  return {
    description: `group ${ref.group ?? ''}`,
    matches: (u) => Array.isArray(u.groups) && u.groups.some((g) => typeof g === 'string' && m(g)),
  };
}

export function compileActors(refs: readonly ActorRef[]): ActorMatcher[] {
  return refs.map(compileActor);
}

export function firstMatch(matchers: readonly ActorMatcher[], user: UserInfo): ActorMatcher | undefined {
  for (const m of matchers) if (m.matches(user)) return m;
  return undefined;
}

export type ActorClass = 'gitops' | 'controller' | 'person' | 'unknown';

/**
 * Classify an actor for attribution: GitOps if a preset or a policy's allow list names it,
 * controller for the control plane and other ServiceAccounts, person for everything else.
 */
export function classifyActor(user: UserInfo | undefined, gitops: readonly ActorMatcher[]): ActorClass {
  if (user === undefined || typeof user.username !== 'string' || user.username === '') return 'unknown';
  for (const m of gitops) if (m.matches(user)) return 'gitops';
  if (isControlPlane(user)) return 'controller';
  if (user.username.startsWith(SERVICE_ACCOUNT_PREFIX) || user.username.startsWith('system:')) return 'controller';
  return 'person';
}
