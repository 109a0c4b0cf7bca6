/**
 * The object a request targets, as people read it. Its kind: a subresource request names the parent only by its
 * resource (`deployments` + subResource `scale`) while `kind` is the subresource's own (`Scale`), so
 * Events, notifications and the audit need the parent's kind back from the plural.
 */
import { builtinByResource } from './kinds.js';

export interface TargetKindInput {
  group: string;
  resource: string;
  subResource?: string;
  kind: string;
}

/** `Deployment` for `deployments/scale`; the request's own kind otherwise; the plural when unknown. */
export function targetKind(r: TargetKindInput): string {
  if (r.subResource === undefined || r.subResource === '' || r.kind !== 'Scale') return r.kind;
  return builtinByResource(r.group, r.resource)?.kind ?? r.resource;
}

/** `Deployment prod-shop/web`: how notifications, Events and the audit name an object. */
export function describeObjectRef(r: { kind: string; namespace?: string | undefined; name: string }): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}
