/**
 * Field-level diff oldObject -> object, as leaf changes with JSON Pointer paths.
 *
 * Iterative (explicit stack), so hostile nesting cannot overflow the call stack, and bounded by
 * `maxChanges`, so a body of millions of array items cannot exhaust memory; `truncated` says so.
 * Added or removed containers are expanded to their leaves: an exception for one annotation must
 * exempt that annotation even when the whole annotations map is new.
 *
 * Lists that Kubernetes identifies by key (containers by name, ports by containerPort and protocol;
 * `keys`, the kind's tree from src/k8s/list-keys.ts) are paired item by item by key, not by index:
 * an item inserted first is one addition, a reordered list is no change, and every change below
 * such an item also carries its keyed path (`keyed`: /spec/template/spec/containers[name=api]/image).
 * A keyed list whose items do not all have distinct keys is compared by index, as every other list.
 */
import { itemSelector, MAX_KEY_VALUE } from '../match/keyed-path.js';
import { fieldNode, type KeyNode } from '../k8s/list-keys.js';
import { escapeToken, parsePointer } from '../match/pointer.js';

type ChangeOp = 'add' | 'remove' | 'replace';

export interface Change {
  /** JSON Pointer, list items by index (the new index; the old one for a removal). */
  path: string;
  /** The keyed path, when the change lies in an item of a keyed list (else it is `path`). */
  keyed?: string;
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
  /** The kind's keyed lists (src/k8s/list-keys.ts); without it every list is compared by index. */
  keys?: KeyNode;
}

const DEFAULT_MAX_CHANGES = 10_000;
const DEFAULT_MAX_NODES = 250_000;

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
  /** The kind's key tree at this node (undefined: no keyed list below). */
  kn: KeyNode | undefined;
  up: Task | undefined;
  key: string | number;
  /** An item of a keyed list: the list's key fields (its selector, `[name=api]`, is built only when a change below it is reported). */
  ks: readonly string[] | undefined;
  path: string | undefined;
  kpath: string | undefined;
}

function task(
  t: 0 | 1 | 2,
  a: Json,
  b: Json,
  ig: IgnoreTree | undefined,
  kn: KeyNode | undefined,
  up: Task | undefined,
  key: string | number,
  ks: readonly string[] | undefined,
): Task {
  return { t, a, b, ig, kn, up, key, ks, path: undefined, kpath: undefined };
}

/** An item that can be identified by `keys`: an object with at least one key field, each a scalar. */
function keyable(item: Json, keys: readonly string[]): boolean {
  if (!isObject(item)) return false;
  let any = false;
  for (const k of keys) {
    const v = item[k];
    if (v === undefined || v === null) continue;
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return false;
    if (t === 'string' && (v as string).length > MAX_KEY_VALUE) return false;
    any = true;
  }
  return any;
}

function sameKey(x: Record<string, Json>, y: Record<string, Json>, keys: readonly string[]): boolean {
  for (const k of keys) if ((x[k] ?? null) !== (y[k] ?? null)) return false;
  return true;
}

/** Every item identifiable, no two with one key. Small lists (all real ones) are checked without allocating. */
function uniqueKeys(items: readonly Json[], keys: readonly string[]): boolean {
  for (const it of items) if (!keyable(it, keys)) return false;
  if (items.length > 16) return selectorsOf(items, keys) !== undefined;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      if (sameKey(items[i] as Record<string, Json>, items[j] as Record<string, Json>, keys)) return false;
    }
  }
  return true;
}

/**
 * The common case of an update: the same items, by key, at the same indices. Pairing by index is then
 * pairing by key, and costs a few property reads per item instead of a key string and a map.
 */
function samePositions(a: readonly Json[], b: readonly Json[], keys: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== y && (!isObject(x) || !isObject(y) || !sameKey(x, y, keys))) return false;
  }
  return uniqueKeys(b, keys);
}

/** The selectors of a keyed list's items, or undefined when some item has none or two share one. */
function selectorsOf(items: readonly Json[], keys: readonly string[]): string[] | undefined {
  const out: string[] = new Array<string>(items.length);
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const s = itemSelector(items[i], keys);
    if (s === undefined || seen.has(s)) return undefined;
    seen.add(s);
    out[i] = s;
  }
  return out;
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

/** The keyed path of a task: like pathOf, with a keyed list's items written by their selector. */
function keyedOf(node: Task): string {
  if (node.kpath !== undefined) return node.kpath;
  const chain: Task[] = [];
  let at: Task | undefined = node;
  while (at !== undefined && at.kpath === undefined) {
    chain.push(at);
    at = at.up;
  }
  let path = at?.kpath ?? '';
  for (let i = chain.length - 1; i >= 0; i--) {
    const c = chain[i]!;
    const sel = c.ks === undefined ? undefined : itemSelector(c.t === 2 ? c.a : c.b, c.ks);
    path = sel !== undefined ? path + sel : `${path}/${typeof c.key === 'number' ? c.key : escapeToken(c.key)}`;
    c.kpath = path;
  }
  return path;
}

function report(changes: Change[], node: Task, op: ChangeOp, keyed: boolean, old: Json, neu: Json): void {
  const path = pathOf(node);
  const c: Change = op === 'add' ? { path, op, new: neu } : op === 'remove' ? { path, op, old } : { path, op, old, new: neu };
  if (keyed) {
    const kp = keyedOf(node);
    if (kp !== path) c.keyed = kp;
  }
  changes.push(c);
}

/** What one diff walks with: the stack of tasks, the changes found, the node budget left, and whether the walk was cut. */
interface Walk {
  stack: Task[];
  changes: Change[];
  budget: number;
  cut: boolean;
  keyed: boolean;
}

export function diff(oldValue: Json, newValue: Json, options: DiffOptions = {}): DiffResult {
  const root = options.ignore === undefined || options.ignore.size === 0 ? undefined : ignoreTree(options.ignore);
  const max = options.maxChanges ?? DEFAULT_MAX_CHANGES;
  const top = task(0, oldValue, newValue, root, options.keys, undefined, '', undefined);
  top.path = '';
  top.kpath = '';
  // LIFO: a node's children are pushed in document order, then that run of the stack is reversed,
  // so that changes come out in document order (no array of children to allocate or clear).
  const w: Walk = {
    stack: [top],
    changes: [],
    budget: options.maxNodes ?? DEFAULT_MAX_NODES,
    cut: false,
    keyed: options.keys !== undefined,
  };
  const stack = w.stack;
  while (stack.length > 0) {
    if (w.changes.length >= max || w.budget <= 0) return { changes: w.changes, truncated: true };
    const node = stack.pop()!;
    const base = stack.length;
    if (node.t === 0) {
      if (compare(w, node, base)) continue;
    } else {
      addedOrRemoved(w, node);
    }
    w.budget -= stack.length - base + 1;
    reverseFrom(stack, base);
  }
  return { changes: w.changes, truncated: w.cut };
}

/**
 * A node on both sides: its children pushed, or its change reported. True when nothing is left
 * to charge or order: the two sides are the same value, or a keyed list settled both itself.
 */
function compare(w: Walk, node: Task, base: number): boolean {
  const { a, b } = node;
  if (a === b) return true;
  if (isObject(a) && isObject(b)) {
    compareObjects(w, node, a, b);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    return compareArrays(w, node, a, b, base);
  } else if (a === undefined) {
    const again = task(1, undefined, b, node.ig, node.kn, node.up, node.key, node.ks);
    again.path = node.path;
    again.kpath = node.kpath;
    w.stack.push(again);
  } else if (b === undefined) {
    const again = task(2, a, undefined, node.ig, node.kn, node.up, node.key, node.ks);
    again.path = node.path;
    again.kpath = node.kpath;
    w.stack.push(again);
  } else if (!(Number.isNaN(a) && Number.isNaN(b))) {
    report(w.changes, node, 'replace', w.keyed, a, b);
  }
  return false;
}

function compareObjects(w: Walk, node: Task, a: Record<string, Json>, b: Record<string, Json>): void {
  const ig = node.ig;
  let same = 0;
  // for-in over a parsed JSON object (own, enumerable, string keys only) takes V8's enum-cache
  // fast path for a[k]; Object.keys plus a generic keyed load cost a quarter of the diff.
  let shared = 0;
  for (const k in a) {
    const av = a[k];
    const read = b[k];
    // Equal leaves (most of any update) cost no task; they still count against the budget. A
    // value read equal to a JSON value is b's own: what b inherits (constructor, __proto__)
    // never equals one, so only the others need the own-member check.
    if (av === read && av !== undefined) {
      same++;
      shared++;
      continue;
    }
    const inB = Object.hasOwn(b, k);
    const bv = inB ? read : undefined;
    if (inB) shared++;
    const sub = ig?.get(k);
    if (sub === true) continue;
    const kn = node.kn === undefined ? undefined : fieldNode(node.kn, k);
    w.stack.push(inB ? task(0, av, bv, sub, kn, node, k, undefined) : task(2, av, undefined, sub, kn, node, k, undefined));
  }
  w.budget -= same;
  // b has members a lacks only when it has more than the ones they share.
  let bSize = 0;
  for (const _ in b) bSize++;
  if (bSize > shared)
    for (const k in b) {
      if (Object.hasOwn(a, k)) continue;
      const sub = ig?.get(k);
      if (sub !== true)
        w.stack.push(task(1, undefined, b[k], sub, node.kn === undefined ? undefined : fieldNode(node.kn, k), node, k, undefined));
    }
}

/** True when the items were paired by key through a map (budget and order already settled). */
function compareArrays(w: Walk, node: Task, a: readonly Json[], b: readonly Json[], base: number): boolean {
  const ig = node.ig;
  const stack = w.stack;
  // A keyed list: its items are paired by key. Either they are at the same indices (most
  // updates: paired by index, each item knows its keys), or they are paired through a map.
  const keys = node.kn?.keys;
  let ks: readonly string[] | undefined;
  if (keys !== undefined && a.length + b.length <= w.budget) {
    w.budget -= a.length + b.length;
    if (samePositions(a, b, keys)) ks = keys;
    else if (pairByKey(node, a, b, keys, stack)) {
      w.budget -= stack.length - base + 1;
      reverseFrom(stack, base);
      return true;
    }
  }
  // Items past the budget are never looked at: the result must then say it is cut, even
  // when nothing else is left to visit (else an unseen change would read as no change).
  const shared = Math.min(a.length, b.length);
  const common = Math.min(shared, w.budget);
  let same = 0;
  for (let i = 0; i < common; i++) {
    if (a[i] === b[i]) {
      same++;
      continue;
    }
    const sub = ig?.get(String(i));
    if (sub !== true) stack.push(task(0, a[i], b[i], sub, node.kn?.any, node, i, ks));
  }
  w.budget -= same;
  if (common < shared) {
    w.cut = true;
    return false;
  }
  const room = Math.max(0, w.budget);
  const removeEnd = Math.min(a.length, shared + room);
  const addEnd = Math.min(b.length, shared + room);
  if (removeEnd < a.length || addEnd < b.length) w.cut = true;
  for (let i = shared; i < removeEnd; i++) {
    const sub = ig?.get(String(i));
    if (sub !== true) stack.push(task(2, a[i], undefined, sub, node.kn?.any, node, i, undefined));
  }
  for (let i = shared; i < addEnd; i++) {
    const sub = ig?.get(String(i));
    if (sub !== true) stack.push(task(1, undefined, b[i], sub, node.kn?.any, node, i, undefined));
  }
  return false;
}

/** A node on one side only (t 1: added, t 2: removed): a container's members pushed, a leaf reported. */
function addedOrRemoved(w: Walk, node: Task): void {
  const ig = node.ig;
  const stack = w.stack;
  const v = node.t === 1 ? node.b : node.a;
  if ((isObject(v) || Array.isArray(v)) && !isEmptyContainer(v)) {
    if (Array.isArray(v)) {
      const n = Math.min(v.length, Math.max(0, w.budget));
      if (n < v.length) w.cut = true;
      const kn = node.kn;
      const ks = kn?.keys !== undefined && n === v.length && uniqueKeys(v, kn.keys) ? kn.keys : undefined;
      if (ks !== undefined) w.budget -= n;
      for (let i = 0; i < n; i++) {
        const sub = ig?.get(String(i));
        if (sub !== true)
          stack.push(
            node.t === 1 ? task(1, undefined, v[i], sub, kn?.any, node, i, ks) : task(2, v[i], undefined, sub, kn?.any, node, i, ks),
          );
      }
    } else {
      for (const k of Object.keys(v)) {
        const sub = ig?.get(k);
        const kn = node.kn === undefined ? undefined : fieldNode(node.kn, k);
        if (sub !== true)
          stack.push(
            node.t === 1 ? task(1, undefined, v[k], sub, kn, node, k, undefined) : task(2, v[k], undefined, sub, kn, node, k, undefined),
          );
      }
    }
  } else if (node.t === 1) {
    report(w.changes, node, 'add', w.keyed, undefined, v);
  } else {
    report(w.changes, node, 'remove', w.keyed, v, undefined);
  }
}

/** Reverse stack[from..] in place. */
function reverseFrom(stack: Task[], from: number): void {
  for (let i = from, j = stack.length - 1; i < j; i++, j--) {
    const t = stack[i]!;
    stack[i] = stack[j]!;
    stack[j] = t;
  }
}

/**
 * Pair the items of a keyed list by key into `children` (changes in the new list's order, then the
 * removed items). False, leaving `children` untouched, when the list cannot be paired by key (an
 * item without a key, a key twice): it is then compared by index.
 */
function pairByKey(node: Task, a: readonly Json[], b: readonly Json[], keys: readonly string[], children: Task[]): boolean {
  const selA = selectorsOf(a, keys);
  if (selA === undefined) return false;
  const selB = selectorsOf(b, keys);
  if (selB === undefined) return false;
  const at = new Map<string, number>();
  for (let i = 0; i < selA.length; i++) at.set(selA[i]!, i);
  const ig = node.ig;
  const kn = node.kn?.any;
  const matched = new Uint8Array(a.length);
  for (let j = 0; j < b.length; j++) {
    const sel = selB[j]!;
    const i = at.get(sel);
    const sub = ig?.get(String(j));
    if (i !== undefined) {
      matched[i] = 1;
      if (a[i] === b[j] || sub === true) continue;
      children.push(task(0, a[i], b[j], sub, kn, node, j, keys));
    } else if (sub !== true) {
      children.push(task(1, undefined, b[j], sub, kn, node, j, keys));
    }
  }
  for (let i = 0; i < a.length; i++) {
    if (matched[i] === 1) continue;
    const sub = ig?.get(String(i));
    if (sub !== true) children.push(task(2, a[i], undefined, sub, kn, node, i, keys));
  }
  return true;
}
