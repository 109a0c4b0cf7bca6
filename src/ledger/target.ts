/**
 * Which object `explain` and `history` are about: kubectl-style `KIND/NAME` (deploy/web,
 * deployment/web, deployments/web, Deployment/web, deployments.apps/web) and a namespace.
 */
import { DriftguardError } from '../errors.js';
import { builtinByName } from '../k8s/kinds.js';
import { guessPlural } from '../k8s/kinds.js';
import type { ObjectQuery } from '../k8s/object-ref.js';
import type { RecordResource } from '../records/record.js';

/** `KIND/NAME` plus `-n NS` -> the object; a usage error for anything else. */
export function parseTarget(spec: string, namespace: string | undefined): ObjectQuery {
  return parseTargetKnown(spec, namespace).target;
}

/** parseTarget, and whether the kind is a built-in one or qualified with its group (so surely meant). */
export function parseTargetKnown(spec: string, namespace: string | undefined): { target: ObjectQuery; known: boolean; kind: string } {
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
  const target: ObjectQuery = {
    resource: known?.resource ?? (word.toLowerCase().endsWith('s') ? word.toLowerCase() : guessPlural(word)),
    name,
  };
  if (known?.clusterScoped !== true) target.namespace = namespace ?? 'default';
  const group = qualifiedGroup ?? known?.group;
  if (group !== undefined) target.group = group;
  if (known?.clusterScoped === true && namespace !== undefined && namespace !== '') {
    throw new DriftguardError('DG_USAGE', `${known.resource} are cluster-scoped: drop -n ${namespace}`);
  }
  return { target, known: known !== undefined || qualifiedGroup !== undefined, kind: kindPart };
}

/** A record's resource is the target's resource (or its scale subresource) in the target's namespace. */
export function isTargetResource(r: RecordResource, t: ObjectQuery): boolean {
  if (r.resource.toLowerCase() !== t.resource) return false;
  if (t.group !== undefined && r.group !== t.group) return false;
  return (r.namespace ?? '') === (t.namespace ?? '');
}

/** The record names the target object (by name; a generateName CREATE's entry/exit is matched by correlation instead). */
export function isTargetObject(r: RecordResource, t: ObjectQuery): boolean {
  return isTargetResource(r, t) && r.name === t.name;
}
