/**
 * Field-level diff oldObject -> object, as leaf changes with JSON Pointer paths.
 *
 * Iterative (explicit stack), so hostile nesting cannot overflow the call stack, and bounded by
 * `maxChanges`, so a body of millions of array items cannot exhaust memory; `truncated` says so.
 * Added or removed containers are expanded to their leaves: an exception for one annotation must
 * exempt that annotation even when the whole annotations map is new.
 */
import { escapeToken, parsePointer } from '../match/pointer.js';

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

/**
 * One node to visit. Every task has one shape (V8 keeps the loop monomorphic). Its JSON Pointer is
 * built only when a change below it is reported: most nodes of an update differ by reference
 * only, and building and escaping a path for each was most of the diff's work.
 */
interface Task {
  /** 0 compare a with b; 1 every leaf of b is added; 2 every leaf of a is removed. */
  t: 0 | 1 | 2;
  a: Json;
  b: Json;
  ig: IgnoreTree | undefined;
  up: Task | undefined;
  key: string | number;
  path: string | undefined;
}

function task(t: 0 | 1 | 2, a: Json, b: Json, ig: IgnoreTree | undefined, up: Task | undefined, key: string | number): Task {
  return { t, a, b, ig, up, key, path: undefined };
}

/** The pointer of a task: built from the nearest ancestor that has one, and kept (iterative: any depth). */
function pathOf(node: Task): string {
  if (node.path !== undefined) return node.path;
  const chain: Task[] = [];
  let at: Task | undefined = node;
  while (at !== undefined && at.path === undefined) {
    chain.push(at);
    at = at.up;
  }
  let path = at?.path ?? '';
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i]!;
    path = `${path}/${typeof c.key === 'number' ? c.key : escapeToken(c.key)}`;
    c.path = path;
  }
  return path;
}

export function diff(oldValue: Json, newValue: Json, options: DiffOptions = {}): DiffResult {
  const root = options.ignore === undefined || options.ignore.size === 0 ? undefined : ignoreTree(options.ignore);
  const max = options.maxChanges ?? DEFAULT_MAX_CHANGES;
  let budget = options.maxNodes ?? DEFAULT_MAX_NODES;
  let cut = false;
  const changes: Change[] = [];
  const top = task(0, oldValue, newValue, root, undefined, '');
  top.path = '';
  // LIFO: children are pushed in reverse so that changes come out in document order.
  const stack: Task[] = [top];
  const children: Task[] = [];

  while (stack.length > 0) {
    if (changes.length >= max || budget <= 0) return { changes, truncated: true };
    const node = stack.pop()!;
    children.length = 0;
    const ig = node.ig;
    if (node.t === 0) {
      const { a, b } = node;
      if (a === b) continue;
      if (isObject(a) && isObject(b)) {
        let same = 0;
        for (const k of Object.keys(a)) {
          const av = a[k];
          const inB = Object.hasOwn(b, k);
          const bv = inB ? b[k] : undefined;
          // Equal leaves (most of any update) cost no task; they still count against the budget.
          if (inB && av === bv) {
            same++;
            continue;
          }
          const sub = ig?.get(k);
          if (sub === true) continue;
          children.push(inB ? task(0, av, bv, sub, node, k) : task(2, av, undefined, sub, node, k));
        }
        budget -= same;
        for (const k of Object.keys(b)) {
          if (Object.hasOwn(a, k)) continue;
          const sub = ig?.get(k);
          if (sub !== true) children.push(task(1, undefined, b[k], sub, node, k));
        }
      } else if (Array.isArray(a) && Array.isArray(b)) {
        // Items past the budget are never looked at: the result must then say it is cut, even
        // when nothing else is left to visit (else an unseen change would read as no change).
        const shared = Math.min(a.length, b.length);
        const common = Math.min(shared, budget);
        let same = 0;
        for (let i = 0; i < common; i++) {
          if (a[i] === b[i]) {
            same++;
            continue;
          }
          const sub = ig?.get(String(i));
          if (sub !== true) children.push(task(0, a[i], b[i], sub, node, i));
        }
        budget -= same;
        if (common < shared) {
          cut = true;
        } else {
          const room = Math.max(0, budget);
          const removeEnd = Math.min(a.length, shared + room);
          const addEnd = Math.min(b.length, shared + room);
          if (removeEnd < a.length || addEnd < b.length) cut = true;
          for (let i = shared; i < removeEnd; i++) {
            const sub = ig?.get(String(i));
            if (sub !== true) children.push(task(2, a[i], undefined, sub, node, i));
          }
          for (let i = shared; i < addEnd; i++) {
            const sub = ig?.get(String(i));
            if (sub !== true) children.push(task(1, undefined, b[i], sub, node, i));
          }
        }
      } else if (a === undefined) {
        const again = task(1, undefined, b, ig, node.up, node.key);
        again.path = node.path;
        children.push(again);
      } else if (b === undefined) {
        const again = task(2, a, undefined, ig, node.up, node.key);
        again.path = node.path;
        children.push(again);
      } else if (!(Number.isNaN(a) && Number.isNaN(b))) {
        changes.push({ path: pathOf(node), op: 'replace', old: a, new: b });
      }
    } else {
      const v = node.t === 1 ? node.b : node.a;
      if ((isObject(v) || Array.isArray(v)) && !isEmptyContainer(v)) {
        if (Array.isArray(v)) {
          const n = Math.min(v.length, Math.max(0, budget));
          if (n < v.length) cut = true;
          for (let i = 0; i < n; i++) {
            const sub = ig?.get(String(i));
            if (sub !== true) children.push(node.t === 1 ? task(1, undefined, v[i], sub, node, i) : task(2, v[i], undefined, sub, node, i));
          }
        } else {
          for (const k of Object.keys(v)) {
            const sub = ig?.get(k);
            if (sub !== true) children.push(node.t === 1 ? task(1, undefined, v[k], sub, node, k) : task(2, v[k], undefined, sub, node, k));
          }
        }
      } else if (node.t === 1) {
        changes.push({ path: pathOf(node), op: 'add', new: v });
      } else {
        changes.push({ path: pathOf(node), op: 'remove', old: v });
      }
    }
    budget -= children.length + 1;
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return { changes, truncated: cut };
}
