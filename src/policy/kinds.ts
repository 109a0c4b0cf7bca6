/**
 * Built-in Kubernetes kinds, as lint reads them: which API group each lives in and whether it is
 * cluster-scoped (from the shared table in k8s/kinds.ts). Custom resources are unknown here, so
 * lint never warns about them.
 */
import { BUILTIN_KINDS } from '../k8s/kinds.js';

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
