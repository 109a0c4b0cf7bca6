/**
 * What the webhook registration must send for a set of policies, derived from the policies: the
 * rules (groups, resources, the scale subresource wherever the kind has one, never status) and one
 * CEL matchCondition that skips the namespaces and resources no policy covers. Pure: policies and a
 * kind lookup in, data out. `driftguard manifests --policies`, `serve --manage-webhooks` and the
 * coverage check (coverage.ts) all use it, so the three can never disagree.
 *
 * Why (docs/cli.md, `driftguard manifests`): a rule for a kind no policy names costs the API server a call per write; a
 * policy for a kind no rule names is never consulted. matchConditions are GA since Kubernetes 1.30;
 * the lockout exclusions (kube-system, driftguard's namespace) stay in the namespaceSelector.
 */
import { BUILTIN_KINDS, guessPlural } from '../k8s/kinds.js';
import type { DriftPolicy } from './schema.js';

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: 'Namespaced' | 'Cluster' | '*';
}

interface MatchCondition {
  name: string;
  expression: string;
}

/** A kind the API server serves, as discovery (or the built-in table) describes it. */
export interface ServedKind {
  resource: string;
  namespaced: boolean;
  scale: boolean;
}

/** Discovery's answer for one group and kind; undefined when the server does not serve it. */
export type KindLookup = (group: string, kind: string) => ServedKind | undefined;

/** A kind driftguard had to guess the resource of: outside the built-in table, no `plurals`, no discovery. */
export interface UnresolvedKind {
  policy: string;
  group: string;
  kind: string;
  /** What was registered instead: kubectl's plural guess. */
  guessed: string;
}

export interface Registration {
  rules: WebhookRule[];
  /** Empty when every request the rules send is covered anyway. */
  matchConditions: MatchCondition[];
  unresolved: UnresolvedKind[];
}

export const COVERAGE_CONDITION = 'driftguard-policies-cover';
const ALL_OPERATIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;

interface Needed {
  group: string;
  resource: string;
  scope: WebhookRule['scope'];
  operations: Set<string>;
}

const BUILTIN = new Map(BUILTIN_KINDS.map((k) => [`${k.group}/${k.kind}`, k]));
const BUILTIN_BY_KIND = new Map<string, (typeof BUILTIN_KINDS)[number][]>();
for (const k of BUILTIN_KINDS) BUILTIN_BY_KIND.set(k.kind, [...(BUILTIN_BY_KIND.get(k.kind) ?? []), k]);

const isGlob = (s: string): boolean => s.includes('*');

/** The resources one policy needs sent: group, resource (with /scale where served) and scope. */
export function policyResources(
  policy: DriftPolicy,
  lookup: KindLookup | undefined,
): { needed: Array<Omit<Needed, 'operations'>>; unresolved: UnresolvedKind[] } {
  const needed: Array<Omit<Needed, 'operations'>> = [];
  const unresolved: UnresolvedKind[] = [];
  const namespacedOnly = policy.spec.match.namespaces !== undefined;
  const add = (group: string, resource: string, scale: boolean, scope: WebhookRule['scope']): void => {
    needed.push({ group, resource, scope });
    if (scale) needed.push({ group, resource: `${resource}/scale`, scope });
  };
  for (const entry of policy.spec.match.resources) {
    const anyGroup = entry.apiGroups.some(isGlob);
    const groups = anyGroup ? ['*'] : [...new Set(entry.apiGroups)];
    for (const kind of entry.kinds) {
      if (isGlob(kind)) {
        // Every kind of the group: every resource, and every resource's scale.
        for (const g of groups) add(g, '*', true, namespacedOnly ? 'Namespaced' : '*');
        continue;
      }
      for (const g of groups) {
        const builtin = g === '*' ? BUILTIN_BY_KIND.get(kind)?.[0] : BUILTIN.get(`${g}/${kind}`);
        if (builtin !== undefined) {
          if (namespacedOnly && builtin.clusterScoped === true) continue; // lint DGL003: never matches
          add(g, builtin.resource, builtin.scale === true, builtin.clusterScoped === true ? 'Cluster' : 'Namespaced');
          continue;
        }
        const served = g === '*' ? undefined : lookup?.(g, kind);
        if (served !== undefined) {
          if (namespacedOnly && !served.namespaced) continue;
          add(g, served.resource, served.scale, served.namespaced ? 'Namespaced' : 'Cluster');
          continue;
        }
        const scope = namespacedOnly ? 'Namespaced' : '*';
        if (entry.plurals !== undefined) {
          // Offline there is no telling whether the custom resource has a scale subresource: a rule
          // for one it lacks is never used, a missing one would let `kubectl scale` through.
          for (const plural of entry.plurals) add(g, plural, true, scope);
          continue;
        }
        const guessed = guessPlural(kind);
        unresolved.push({ policy: policy.metadata.name, group: g, kind, guessed });
        add(g, guessed, true, scope);
      }
    }
  }
  return { needed, unresolved };
}

function celString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const RE2_SPECIAL = /[.+?^${}()|[\]\\]/g;

/** A `*` glob (match/glob.ts) as a CEL test of `subject`. */
export function globToCel(glob: string, subject: string): string {
  if (!glob.includes('*')) return `${subject} == ${celString(glob)}`;
  if (glob === '*') return 'true';
  const star = glob.indexOf('*');
  if (star === glob.lastIndexOf('*')) {
    const head = glob.slice(0, star);
    const tail = glob.slice(star + 1);
    if (tail === '') return `${subject}.startsWith(${celString(head)})`;
    if (head === '') return `${subject}.endsWith(${celString(tail)})`;
    return `(${subject}.size() >= ${head.length + tail.length} && ${subject}.startsWith(${celString(head)}) && ${subject}.endsWith(${celString(tail)}))`;
  }
  const re = glob
    .split('*')
    .map((part) => part.replace(RE2_SPECIAL, '\\$&'))
    .join('.*');
  return `${subject}.matches(${celString(`^${re}$`)})`;
}

function anyOf(parts: string[]): string {
  if (parts.includes('true')) return 'true';
  if (parts.length === 0) return 'false';
  return parts.length === 1 ? parts[0]! : `(${parts.join(' || ')})`;
}

function allOf(parts: string[]): string {
  const rest = parts.filter((p) => p !== 'true');
  if (rest.includes('false')) return 'false';
  if (rest.length === 0) return 'true';
  return rest.length === 1 ? rest[0]! : rest.join(' && ');
}

const NS = 'request.namespace';

/** The namespaces a policy covers, as CEL (engine/evaluate.ts: namespaces, then excludeNamespaces). */
function namespaceCel(policy: DriftPolicy): string {
  const m = policy.spec.match;
  const parts: string[] = [];
  if (m.namespaces !== undefined) {
    // A cluster-scoped object (namespace "") is never covered by a policy that lists namespaces;
    // only a pattern of nothing but `*` would otherwise match "".
    if (m.namespaces.some((g) => g.replace(/\*/g, '') === '')) parts.push(`${NS} != ''`);
    parts.push(anyOf(m.namespaces.map((g) => globToCel(g, NS))));
  }
  if (m.excludeNamespaces !== undefined) {
    const excluded = anyOf(m.excludeNamespaces.map((g) => globToCel(g, NS)));
    if (excluded !== 'false') parts.push(m.namespaces !== undefined ? `!${wrap(excluded)}` : `(${NS} == '' || !${wrap(excluded)})`);
  }
  return allOf(parts);
}

function wrap(expr: string): string {
  return expr.startsWith('(') || !expr.includes(' ') ? expr : `(${expr})`;
}

/** The resources a policy covers, as CEL over the request's group and (parent) resource. */
function resourceCel(needed: ReadonlyArray<Omit<Needed, 'operations'>>): string {
  const byGroup = new Map<string, Set<string>>();
  for (const n of needed) {
    const resource = n.resource.split('/')[0]!;
    byGroup.set(n.group, (byGroup.get(n.group) ?? new Set()).add(resource));
  }
  const parts: string[] = [];
  for (const [group, resources] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const groupTest = group === '*' ? 'true' : `request.resource.group == ${celString(group)}`;
    const list = [...resources].sort();
    const resourceTest = list.includes('*') ? 'true' : `request.resource.resource in [${list.map(celString).join(', ')}]`;
    parts.push(allOf([groupTest, resourceTest]));
  }
  return anyOf(parts.map((p) => (p.includes(' && ') ? `(${p})` : p)));
}

function conditionOf(policy: DriftPolicy, needed: ReadonlyArray<Omit<Needed, 'operations'>>): string {
  return allOf([resourceCel(needed), namespaceCel(policy)]);
}

/**
 * One policy's part of the coverage matchCondition: the registered expression is these parts joined
 * by `||`, each in parentheses, so the coverage check can find a policy's part in it. "true": the
 * policy needs no condition (every namespace, every resource its rules name).
 */
export function policyCondition(policy: DriftPolicy, lookup?: KindLookup): string {
  return conditionOf(policy, policyResources(policy, lookup).needed);
}

const SCOPE_ORDER = { Namespaced: 0, Cluster: 1, '*': 2 } as const;

/** The rules and matchConditions that send exactly what `policies` can cover. */
export function registrationFor(policies: readonly DriftPolicy[], lookup?: KindLookup): Registration {
  const needed = new Map<string, Needed>();
  const unresolved: UnresolvedKind[] = [];
  const conditions: string[] = [];
  for (const policy of policies) {
    const r = policyResources(policy, lookup);
    unresolved.push(...r.unresolved);
    if (r.needed.length === 0) continue;
    const operations = policy.spec.match.operations ?? ALL_OPERATIONS;
    for (const n of r.needed) {
      const key = `${n.group}\u0000${n.resource}\u0000${n.scope}`;
      const have = needed.get(key) ?? { ...n, operations: new Set<string>() };
      for (const op of operations) have.operations.add(op);
      needed.set(key, have);
    }
    conditions.push(conditionOf(policy, r.needed));
  }
  // One rule per group, scope and operation set, resources sorted: a stable, reviewable diff.
  const rules = new Map<string, WebhookRule>();
  for (const n of needed.values()) {
    const operations = ALL_OPERATIONS.filter((op) => n.operations.has(op));
    const key = `${n.group}\u0000${n.scope}\u0000${operations.join(',')}`;
    const rule = rules.get(key) ?? { apiGroups: [n.group], apiVersions: ['*'], operations: [...operations], resources: [], scope: n.scope };
    rule.resources.push(n.resource);
    rules.set(key, rule);
  }
  const sorted = [...rules.values()]
    .map((r) => ({ ...r, resources: [...new Set(r.resources)].sort() }))
    .sort(
      (a, b) =>
        groupOrder(a.apiGroups[0]!) - groupOrder(b.apiGroups[0]!) ||
        (a.apiGroups[0]! < b.apiGroups[0]! ? -1 : a.apiGroups[0]! > b.apiGroups[0]! ? 1 : 0) ||
        SCOPE_ORDER[a.scope] - SCOPE_ORDER[b.scope] ||
        a.operations.join().localeCompare(b.operations.join()),
    );
  const expression = conditions.includes('true')
    ? 'true'
    : conditions.length === 1
      ? conditions[0]!
      : conditions.map((c) => `(${c})`).join(' || ');
  const matchConditions = sorted.length === 0 || expression === 'true' ? [] : [{ name: COVERAGE_CONDITION, expression }];
  return { rules: sorted, matchConditions, unresolved };
}

/** The core group first, then the others by name, "*" last. */
function groupOrder(group: string): number {
  return group === '' ? 0 : group === '*' ? 2 : 1;
}
