/**
 * Field-level diff oldObject -> object, as leaf changes with JSON Pointer paths.
 *
 * Iterative (explicit stack), so hostile nesting cannot overflow the call stack, and bounded by
 * `maxChanges`, so a body of millions of array items cannot exhaust memory; `truncated` says so.
 * Added or removed containers are expanded to their leaves: an exception for one annotation must
 * exempt that annotation even when the whole annotations map is new.
 */
import { escapeToken, parsePointer } from './pointer.js';

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

/**
 * The ignored pointers as a tree of raw keys, walked alongside the values: whether a child is
 * ignored is one Map lookup of its key, with no path string built or hashed. (Hashing every path
 * was the engine's hottest work, and quadratic in depth for deeply nested bodies.)
 */
type IgnoreTree = Map<string, IgnoreTree | true>;

const trees = new WeakMap<ReadonlySet<string>, IgnoreTree>();

function ignoreTree(ignore: ReadonlySet<string>): IgnoreTree {
  let tree = trees.get(ignore);
  if (tree !== undefined) return tree;
  tree = new Map();
  for (const pointer of ignore) {
    const tokens = parsePointer(pointer);
    let node = tree;
    tokens.forEach((t, i) => {
      if (i === tokens.length - 1) {
        node.set(t, true);
        return;
      }
      const next = node.get(t);
      if (next === true) return;
      const sub: IgnoreTree = next ?? new Map();
      node.set(t, sub);
      node = sub;
    });
  }
  trees.set(ignore, tree);
  return tree;
}

type Task =
  | { t: 0; path: string; a: Json; b: Json; ig: IgnoreTree | undefined } // compare
  | { t: 1; path: string; v: Json; ig: IgnoreTree | undefined } // add every leaf
  | { t: 2; path: string; v: Json; ig: IgnoreTree | undefined }; // remove every leaf

export function diff(oldValue: Json, newValue: Json, options: DiffOptions = {}): DiffResult {
  const root = options.ignore === undefined || options.ignore.size === 0 ? undefined : ignoreTree(options.ignore);
  const max = options.maxChanges ?? DEFAULT_MAX_CHANGES;
  let budget = options.maxNodes ?? DEFAULT_MAX_NODES;
  const changes: Change[] = [];
  // LIFO: children are pushed in reverse so that changes come out in document order.
  const stack: Task[] = [{ t: 0, path: '', a: oldValue, b: newValue, ig: root }];
  const children: Task[] = [];

  while (stack.length > 0) {
    if (changes.length >= max || budget <= 0) return { changes, truncated: true };
    const task = stack.pop()!;
    children.length = 0;
    const ig = task.ig;
    if (task.t === 0) {
      const { path, a, b } = task;
      if (a === b) continue;
      if (isObject(a) && isObject(b)) {
        for (const k of Object.keys(a)) {
          const av = a[k];
          const inB = Object.hasOwn(b, k);
          const bv = inB ? b[k] : undefined;
          // Equal leaves (most of any update) cost neither a task nor a path.
          if (inB && av === bv) continue;
          const sub = ig?.get(k);
          if (sub === true) continue;
          const p = `${path}/${escapeToken(k)}`;
          children.push(inB ? { t: 0, path: p, a: av, b: bv, ig: sub } : { t: 2, path: p, v: av, ig: sub });
        }
        for (const k of Object.keys(b)) {
          if (Object.hasOwn(a, k)) continue;
          const sub = ig?.get(k);
          if (sub !== true) children.push({ t: 1, path: `${path}/${escapeToken(k)}`, v: b[k], ig: sub });
        }
      } else if (Array.isArray(a) && Array.isArray(b)) {
        const common = Math.min(a.length, b.length, budget);
        for (let i = 0; i < common; i++) {
          if (a[i] === b[i]) continue;
          const sub = ig?.get(String(i));
          if (sub !== true) children.push({ t: 0, path: `${path}/${i}`, a: a[i], b: b[i], ig: sub });
        }
        const removeEnd = Math.min(a.length, common + budget);
        for (let i = common; i < removeEnd; i++) {
          const sub = ig?.get(String(i));
          if (sub !== true) children.push({ t: 2, path: `${path}/${i}`, v: a[i], ig: sub });
        }
        const addEnd = Math.min(b.length, common + budget);
        for (let i = common; i < addEnd; i++) {
          const sub = ig?.get(String(i));
          if (sub !== true) children.push({ t: 1, path: `${path}/${i}`, v: b[i], ig: sub });
        }
      } else if (a === undefined) {
        children.push({ t: 1, path, v: b, ig });
      } else if (b === undefined) {
        children.push({ t: 2, path, v: a, ig });
      } else if (!(Number.isNaN(a) && Number.isNaN(b))) {
        changes.push({ path, op: 'replace', old: a, new: b });
      }
    } else {
      const { path, v } = task;
      if ((isObject(v) || Array.isArray(v)) && !isEmptyContainer(v)) {
        if (Array.isArray(v)) {
          const n = Math.min(v.length, budget);
          for (let i = 0; i < n; i++) {
            const sub = ig?.get(String(i));
            if (sub !== true) children.push({ t: task.t, path: `${path}/${i}`, v: v[i], ig: sub });
          }
        } else {
          for (const k of Object.keys(v)) {
            const sub = ig?.get(k);
            if (sub !== true) children.push({ t: task.t, path: `${path}/${escapeToken(k)}`, v: v[k], ig: sub });
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
