/**
 * Which object `explain` and `history` are about: kubectl-style `KIND/NAME` (deploy/web,
 * deployment/web, deployments/web, Deployment/web, deployments.apps/web) and a namespace.
 */
import { DriftguardError } from '../errors.js';
import { builtinByName } from '../k8s/kinds.js';
import { guessPlural } from '../k8s/kinds.js';
import type { RecordResource } from '../records/schema.js';

export interface ObjectTarget {
  /** Plural resource name, lower case: "deployments". */
  resource: string;
  /** API group when known ("apps"), or when the user qualified the kind (deployments.apps). */
  group?: string;
  /** Namespace; "" for a cluster-scoped resource. */
  namespace: string;
  name: string;
}

/** `KIND/NAME` plus `-n NS` -> the object; a usage error for anything else. */
export function parseTarget(spec: string, namespace: string | undefined): ObjectTarget {
  const slash = spec.indexOf('/');
  if (slash <= 0 || slash === spec.length - 1 || spec.indexOf('/', slash + 1) >= 0) {
    throw new DriftguardError('DG_USAGE', `expected KIND/NAME (for example deploy/web), got ${JSON.stringify(spec)}`);
  }
  const kindPart = spec.slice(0, slash);
  const name = spec.slice(slash + 1);
  // deployments.apps, rollouts.argoproj.io: the group follows the first dot.
  const dot = kindPart.indexOf('.');
  const word = dot < 0 ? kindPart : kindPart.slice(0, dot);
  const qualifiedGroup = dot < 0 ? undefined : kindPart.slice(dot + 1);
  const known = builtinByName(word);
  const target: ObjectTarget = {
    resource: known?.resource ?? (word.toLowerCase().endsWith('s') ? word.toLowerCase() : guessPlural(word)),
    namespace: known?.clusterScoped === true ? '' : (namespace ?? 'default'),
    name,
  };
  const group = qualifiedGroup ?? known?.group;
  if (group !== undefined) target.group = group;
  if (known?.clusterScoped === true && namespace !== undefined && namespace !== '') {
    throw new DriftguardError('DG_USAGE', `${known.resource} are cluster-scoped: drop -n ${namespace}`);
  }
  return target;
}

export function targetLabel(t: ObjectTarget): string {
  const kind = t.group === undefined || t.group === '' ? t.resource : `${t.resource}.${t.group}`;
  return t.namespace === '' ? `${kind}/${t.name}` : `${kind}/${t.name} in namespace ${t.namespace}`;
}

/** A record's resource is the target's resource (or its scale subresource) in the target's namespace. */
export function isTargetResource(r: RecordResource, t: ObjectTarget): boolean {
  if (r.resource.toLowerCase() !== t.resource) return false;
  if (t.group !== undefined && r.group !== t.group) return false;
  return (r.namespace ?? '') === t.namespace;
}

/** The record names the target object (by name; a generateName CREATE's entry/exit is matched by correlation instead). */
export function isTargetObject(r: RecordResource, t: ObjectTarget): boolean {
  return isTargetResource(r, t) && r.name === t.name;
}
