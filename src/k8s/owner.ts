/**
 * The GitOps owner of an object, read from the tracking marks Argo CD and Flux leave on it
 * (docs/kubernetes.md, Identities).
 */
export const ARGOCD_TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
const ARGOCD_INSTANCE_LABEL = 'app.kubernetes.io/instance';
const FLUX_KUSTOMIZE_NAME = 'kustomize.toolkit.fluxcd.io/name';
const FLUX_KUSTOMIZE_NAMESPACE = 'kustomize.toolkit.fluxcd.io/namespace';
const FLUX_HELM_NAME = 'helm.toolkit.fluxcd.io/name';
const FLUX_HELM_NAMESPACE = 'helm.toolkit.fluxcd.io/namespace';

export interface ObjectMarks {
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

export type GitOpsOwner =
  | { tool: 'argocd'; application: string; namespace?: string; source: 'tracking-id' | 'instance-label' }
  | { tool: 'flux'; kind: 'Kustomization' | 'HelmRelease'; name: string; namespace?: string };

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function argoTracked(marks: ObjectMarks): boolean {
  return str(marks.annotations[ARGOCD_TRACKING_ANNOTATION]) !== undefined || str(marks.labels[ARGOCD_INSTANCE_LABEL]) !== undefined;
}

export function fluxTracked(marks: ObjectMarks): boolean {
  return str(marks.labels[FLUX_KUSTOMIZE_NAME]) !== undefined || str(marks.labels[FLUX_HELM_NAME]) !== undefined;
}

/** Argo CD tracking id: `<app>:<group>/<Kind>:<ns>/<name>`; apps outside argocd's namespace are `<ns>_<app>`. */
function parseTrackingId(id: string): { application: string; namespace?: string } | undefined {
  const colon = id.indexOf(':');
  if (colon <= 0) return undefined;
  const app = id.slice(0, colon);
  const underscore = app.indexOf('_');
  if (underscore > 0) return { namespace: app.slice(0, underscore), application: app.slice(underscore + 1) };
  return { application: app };
}

export function gitOpsOwner(marks: ObjectMarks): GitOpsOwner | undefined {
  const tracking = str(marks.annotations[ARGOCD_TRACKING_ANNOTATION]);
  if (tracking !== undefined) {
    const parsed = parseTrackingId(tracking);
    if (parsed !== undefined) return { tool: 'argocd', ...parsed, source: 'tracking-id' };
  }
  const ks = str(marks.labels[FLUX_KUSTOMIZE_NAME]);
  if (ks !== undefined) {
    const ns = str(marks.labels[FLUX_KUSTOMIZE_NAMESPACE]);
    return { tool: 'flux', kind: 'Kustomization', name: ks, ...(ns === undefined ? {} : { namespace: ns }) };
  }
  const hr = str(marks.labels[FLUX_HELM_NAME]);
  if (hr !== undefined) {
    const ns = str(marks.labels[FLUX_HELM_NAMESPACE]);
    return { tool: 'flux', kind: 'HelmRelease', name: hr, ...(ns === undefined ? {} : { namespace: ns }) };
  }
  const instance = str(marks.labels[ARGOCD_INSTANCE_LABEL]);
  if (instance !== undefined) return { tool: 'argocd', application: instance, source: 'instance-label' };
  return undefined;
}

/** `Argo CD application argocd/shop`, `Flux Kustomization flux-system/apps`; "" for no owner. */
export function describeOwner(owner: GitOpsOwner | undefined): string {
  if (owner === undefined) return '';
  if (owner.tool === 'argocd') return `Argo CD application ${owner.namespace ? `${owner.namespace}/` : ''}${owner.application}`;
  return `Flux ${owner.kind} ${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}`;
}

/**
 * Labels and annotations of an object, tolerating any malformed shape (never throws). With
 * `onlyAnnotations`, just those annotations are taken (the others are not even copied).
 */
export function marksOf(obj: unknown, onlyAnnotations?: readonly string[]): ObjectMarks | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const meta = (obj as { metadata?: unknown }).metadata;
  if (typeof meta !== 'object' || meta === null) return { labels: {}, annotations: {} };
  const annotations = (meta as { annotations?: unknown }).annotations;
  return {
    labels: stringMap((meta as { labels?: unknown }).labels),
    annotations: onlyAnnotations === undefined ? stringMap(annotations) : pickStrings(annotations, onlyAnnotations),
  };
}

/** The string members `keys` of a map, those it has of its own. */
export function pickStrings(v: unknown, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const k of keys) {
    const val = (v as Record<string, unknown>)[k];
    if (typeof val === 'string' && Object.hasOwn(v, k)) out[k] = val;
  }
  return out;
}

function stringMap(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
