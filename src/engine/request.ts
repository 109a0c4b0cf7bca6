/**
 * Facts about one admission request that every policy reads, computed once per request and lazily
 * where they cost something (the diff).
 */
import type { AdmissionRequest, KubeObject } from '../k8s/admission.js';
import { builtinListKeys, type KeyNode, type ListKeyIndex } from '../k8s/list-keys.js';
import { diff, type DiffResult } from './diff.js';
import { NEVER_DRIFT } from '../k8s/never-drift.js';
import { marksOf, type ObjectMarks } from '../k8s/owner.js';

/** A Scale (the scale subresource) carries no labels or annotations: they live on the parent. */
export function isScale(req: AdmissionRequest): boolean {
  return typeof req.subResource === 'string' && req.subResource !== '' && req.kind.kind === 'Scale';
}

/** The object whose labels decide coverage: the stored one for UPDATE and DELETE, so a request cannot strip its own marks. */
function markSource(req: AdmissionRequest): KubeObject | null {
  return req.operation === 'CREATE' ? req.object : (req.oldObject ?? req.object);
}

export class RequestFacts {
  readonly request: AdmissionRequest;
  readonly scale: boolean;
  /** Marks of the object, or of the parent for a Scale; undefined when they cannot be known. */
  readonly marks: ObjectMarks | undefined;
  /** The keyed lists of the request's kind (undefined: none, every list by index). */
  readonly keys: KeyNode | undefined;
  private diffResult: DiffResult | undefined;

  constructor(request: AdmissionRequest, parentMarks: ObjectMarks | undefined, listKeys: ListKeyIndex = builtinListKeys()) {
    this.request = request;
    this.scale = isScale(request);
    this.marks = this.scale ? parentMarks : (marksOf(markSource(request)) ?? { labels: {}, annotations: {} });
    this.keys = listKeysOf(request, listKeys);
  }

  /** The changes this request makes: field-level for UPDATE, the whole object for CREATE and DELETE. */
  changes(): DiffResult {
    if (this.diffResult !== undefined) return this.diffResult;
    const r = this.request;
    let result: DiffResult;
    if (r.operation === 'CREATE') {
      result = { changes: [{ path: '', op: 'add', new: r.object }], truncated: false };
    } else if (r.operation === 'DELETE') {
      result = { changes: [{ path: '', op: 'remove', old: r.oldObject }], truncated: false };
    } else {
      result = diff(r.oldObject ?? undefined, r.object ?? undefined, diffOptions(this.keys));
    }
    this.diffResult = result;
    return result;
  }
}

/** The key tree of the request's kind, as the API server named it in the review. */
export function listKeysOf(request: AdmissionRequest, index: ListKeyIndex): KeyNode | undefined {
  const k = request.kind;
  return typeof k?.kind === 'string' ? index.forKind(k.group ?? '', k.version ?? '', k.kind) : undefined;
}

/** The diff options of every request: bookkeeping ignored, keyed lists paired by key. */
export function diffOptions(keys: KeyNode | undefined): { ignore: ReadonlySet<string>; keys?: KeyNode } {
  return keys === undefined ? { ignore: NEVER_DRIFT } : { ignore: NEVER_DRIFT, keys };
}
