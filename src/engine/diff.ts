/**
 * Field-level diff oldObject -> object, as leaf changes with JSON Pointer paths.
 *
 * Iterative (explicit stack), so hostile nesting cannot overflow the call stack, and bounded by
 * `maxChanges`, so a body of millions of array items cannot exhaust memory; `truncated` says so.
 * Added or removed containers are expanded to their leaves: an exception for one annotation must
 * exempt that annotation even when the whole annotations map is new.
 */
import { escapeToken } from './pointer.js';

export type ChangeOp = 'add' | 'remove' | 'replace';

export interface Change {
  path: string;
  op: ChangeOp;
  old?: unknown;
  new?: unknown;
}

export interface DiffResult {
  changes: Change[];
  truncated: boolean;
}

export interface DiffOptions {
  /** Pointers never compared (and not descended into). */
  ignore?: ReadonlySet<string>;
  maxChanges?: number;
  /** Nodes visited at most; bounds the CPU a hostile body can cost (a real object is a few thousand). */
  maxNodes?: number;
}

export const DEFAULT_MAX_CHANGES = 10_000;
export const DEFAULT_MAX_NODES = 250_000;

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isEmptyContainer(v: Json): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

type Task =
  | { t: 0; path: string; a: Json; b: Json } // compare
  | { t: 1; path: string; v: Json } // add every leaf
  | { t: 2; path: string; v: Json }; // remove every leaf

export function diff(oldValue: Json, newValue: Json, options: DiffOptions = {}): DiffResult {
  const ignore = options.ignore;
  const max = options.maxChanges ?? DEFAULT_MAX_CHANGES;
  let budget = options.maxNodes ?? DEFAULT_MAX_NODES;
  const changes: Change[] = [];
  // LIFO: children are pushed in reverse so that changes come out in document order.
  const stack: Task[] = [{ t: 0, path: '', a: oldValue, b: newValue }];
  const children: Task[] = [];

  while (stack.length > 0) {
    if (changes.length >= max || budget <= 0) return { changes, truncated: true };
    const task = stack.pop()!;
    children.length = 0;
    if (task.t === 0) {
      const { path, a, b } = task;
      if (a === b) continue;
      if (isObject(a) && isObject(b)) {
        let same = 0;
        for (const k of Object.keys(a)) {
          const av = a[k];
          const inB = Object.hasOwn(b, k);
          // Most members of an updated object are unchanged: skip them before building a path.
          if (inB && av === b[k]) {
            same++;
            continue;
          }
          const p = `${path}/${escapeToken(k)}`;
          if (ignore?.has(p)) continue;
          children.push(inB ? { t: 0, path: p, a: av, b: b[k] } : { t: 2, path: p, v: av });
        }
        budget -= same;
        for (const k of Object.keys(b)) {
          if (Object.hasOwn(a, k)) continue;
          const p = `${path}/${escapeToken(k)}`;
          if (!ignore?.has(p)) children.push({ t: 1, path: p, v: b[k] });
        }
      } else if (Array.isArray(a) && Array.isArray(b)) {
        const common = Math.min(a.length, b.length, budget);
        let same = 0;
        for (let i = 0; i < common; i++) {
          if (a[i] === b[i]) same++;
          else children.push({ t: 0, path: `${path}/${i}`, a: a[i], b: b[i] });
        }
        budget -= same;
        const removeEnd = Math.min(a.length, common + budget);
        for (let i = common; i < removeEnd; i++) children.push({ t: 2, path: `${path}/${i}`, v: a[i] });
        const addEnd = Math.min(b.length, common + budget);
        for (let i = common; i < addEnd; i++) children.push({ t: 1, path: `${path}/${i}`, v: b[i] });
      } else if (a === undefined) {
        children.push({ t: 1, path, v: b });
      } else if (b === undefined) {
        children.push({ t: 2, path, v: a });
      } else if (!(Number.isNaN(a) && Number.isNaN(b))) {
        changes.push({ path, op: 'replace', old: a, new: b });
      }
    } else {
      const { path, v } = task;
      if ((isObject(v) || Array.isArray(v)) && !isEmptyContainer(v)) {
        if (Array.isArray(v)) {
          const n = Math.min(v.length, budget);
          for (let i = 0; i < n; i++) children.push({ t: task.t, path: `${path}/${i}`, v: v[i] });
        } else {
          for (const k of Object.keys(v)) {
            const p = `${path}/${escapeToken(k)}`;
            if (!ignore?.has(p)) children.push({ t: task.t, path: p, v: v[k] });
          }
        }
      } else if (task.t === 1) {
        changes.push({ path, op: 'add', new: v });
      } else {
        changes.push({ path, op: 'remove', old: v });
      }
    }
    budget -= children.length + 1;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return { changes, truncated: false };
}
