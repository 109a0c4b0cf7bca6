/**
 * Labels of a Scale's parent (the Scale carries none). First what driftguard has already seen of the
 * object (admitted writes), then, when a cluster is configured, a metadata-only GET of the parent.
 * Unknown stays unknown: the policy's `unresolved` decides. Never throws.
 */
import type { Logger } from 'pino';
import type { AdmissionRequest } from '../k8s/admission.js';
import { fromRequest, key, type ObjectRef } from '../k8s/object-ref.js';
import { ARGOCD_TRACKING_ANNOTATION, marksOf, pickStrings, type ObjectMarks } from '../k8s/owner.js';
import type { KubeClient } from './kube.js';
import { objectPath } from './kube.js';

/** Fetch the marks of one object from the cluster (a metadata GET of group, version, resource, namespace, name); undefined when it does not exist. */
export type MarksLookup = (ref: ObjectRef) => Promise<ObjectMarks | undefined>;

/** The annotations worth keeping: coverage and ownership read only these. */
const KEPT_ANNOTATIONS = [ARGOCD_TRACKING_ANNOTATION];

function slim(m: ObjectMarks): ObjectMarks {
  return { labels: { ...m.labels }, annotations: pickStrings(m.annotations, KEPT_ANNOTATIONS) };
}

/**
 * A bounded cache of object marks, keyed by group/resource/namespace/name, in two generations: new
 * and refreshed entries go to the young one; when it is full it becomes the old one and the
 * previous old one is dropped whole, so what is neither written nor read for a generation goes (an
 * approximate LRU). Nothing is deleted per request: a Map's deletes make V8 rebuild its table,
 * and the tables it leaves behind chain across scavenges (docs/performance.md, the in-flight Set).
 */
export class MarksCache {
  private young = new Map<string, ObjectMarks>();
  private old = new Map<string, ObjectMarks>();
  private readonly generation: number;

  constructor(maxEntries = 50_000) {
    this.generation = Math.max(1, Math.floor(maxEntries / 2));
  }

  get(k: string): ObjectMarks | undefined {
    const v = this.young.get(k);
    if (v !== undefined) return v;
    const aged = this.old.get(k);
    if (aged !== undefined) this.set(k, aged);
    return aged;
  }

  set(k: string, v: ObjectMarks): void {
    this.young.set(k, v);
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  /** Forget an object (an admitted DELETE): rare, so a Map delete is fine here. */
  delete(k: string): void {
    this.young.delete(k);
    this.old.delete(k);
  }

  /** Entries held, an object counted once even when both generations hold it. */
  get size(): number {
    let n = this.young.size;
    for (const k of this.old.keys()) if (!this.young.has(k)) n++;
    return n;
  }
}

export interface ParentResolverOptions {
  cache?: MarksCache;
  lookup?: MarksLookup;
  logger?: Logger;
}

export class ParentResolver {
  readonly cache: MarksCache;
  private readonly lookup: MarksLookup | undefined;
  private readonly logger: Logger | undefined;

  constructor(opts: ParentResolverOptions = {}) {
    this.cache = opts.cache ?? new MarksCache();
    this.lookup = opts.lookup;
    this.logger = opts.logger;
  }

  /** Marks of the parent of a subresource request, or undefined when they cannot be known. */
  async parentMarks(req: AdmissionRequest): Promise<ObjectMarks | undefined> {
    const name = req.name ?? '';
    if (name === '') return undefined;
    const k = key({ group: req.resource.group, resource: req.resource.resource, namespace: req.namespace, name });
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    if (this.lookup === undefined) return undefined;
    try {
      // A Scale request's object is its parent: the resource's group and version, the request's name.
      const marks = await this.lookup(fromRequest(req));
      if (marks !== undefined) this.cache.set(k, slim(marks));
      return marks;
    } catch (err) {
      this.logger?.warn(
        { err: { message: (err as Error).message }, resource: req.resource.resource, name },
        'parent lookup failed; policy `unresolved` decides',
      );
      return undefined;
    }
  }

  /** What is already known of a Scale's parent, without asking the cluster. */
  known(req: AdmissionRequest): ObjectMarks | undefined {
    const name = req.name ?? '';
    return name === ''
      ? undefined
      : this.cache.get(key({ group: req.resource.group, resource: req.resource.resource, namespace: req.namespace, name }));
  }

  /**
   * Learn from any review of an object (not of a subresource): its marks serve later Scale
   * requests for it. The `oldObject` of an UPDATE or DELETE is the stored object whatever the
   * answer, so a denied or dry-run request teaches as much as an admitted one; an admitted write
   * (`admitted`, not a dry run) replaces it with what will be stored, and an admitted DELETE forgets it.
   */
  remember(req: AdmissionRequest, admitted: boolean): void {
    if (typeof req.subResource === 'string' && req.subResource !== '') return;
    const meta = (req.object ?? req.oldObject)?.metadata;
    const name = typeof req.name === 'string' && req.name !== '' ? req.name : meta?.name;
    if (typeof name !== 'string' || name === '') return;
    const k = key({ group: req.resource.group, resource: req.resource.resource, namespace: req.namespace, name });
    const persisted = admitted && req.dryRun !== true;
    if (persisted && req.operation === 'DELETE') {
      this.cache.delete(k);
      return;
    }
    // Only the kept annotations are read from the object (not a copy of every one, on every review).
    const marks = marksOf(persisted ? req.object : req.oldObject, KEPT_ANNOTATIONS);
    if (marks !== undefined) this.cache.set(k, slim(marks));
  }
}

/** Metadata-only GET (PartialObjectMetadata): a few hundred bytes whatever the object's size. */
export function clusterMarksLookup(client: KubeClient): MarksLookup {
  return async (ref) => {
    const res = await client.request('GET', objectPath(ref), {
      accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${objectPath(ref)} answered ${res.status}`);
    return marksOf(res.body);
  };
}
