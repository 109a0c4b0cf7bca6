/**
 * Which lists of a kind Kubernetes identifies by key, and by which fields: the list-map keys
 * (`x-kubernetes-list-type: map`, `x-kubernetes-list-map-keys`) or else the strategic merge patch
 * key (`x-kubernetes-patch-merge-key`) of its OpenAPI schema. A table maps `group/version/Kind`
 * to the schema paths of its keyed lists (`*` for any list item or map value):
 *
 *   'apps/v1/Deployment': { '/spec/template/spec/containers': ['name'], ... }
 *
 * compiled once per kind into a tree the diff walks beside the object (one Map lookup per field on
 * a path that leads to a keyed list; nothing at all elsewhere). Pure data: built-in kinds come from
 * list-keys.generated.ts, custom resources from the cluster's /openapi/v3 (src/cluster/openapi.ts).
 */
import { GENERATED_LIST_KEYS } from './list-keys.generated.js';

import type { KindListKeys, ListKeyTable } from './list-key-table.js';

export type { KindListKeys, ListKeyTable };

/** A node of the compiled tree: the keys of this list (when it is a keyed list) and what lies below. */
export interface KeyNode {
  /** Key fields in name order; set when this node is a keyed list. */
  readonly keys?: readonly string[];
  /** Named fields below. */
  readonly fields?: ReadonlyMap<string, KeyNode>;
  /** Any list item or map value below. */
  readonly any?: KeyNode;
}

interface MutableNode {
  keys?: readonly string[];
  fields?: Map<string, MutableNode>;
  any?: MutableNode;
}

export function kindId(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** Compile one kind's table into a tree; undefined when the kind has no keyed list. */
export function compileKindKeys(entries: KindListKeys): KeyNode | undefined {
  const root: MutableNode = {};
  let any = false;
  for (const [path, keys] of Object.entries(entries)) {
    if (keys.length === 0) continue;
    let node = root;
    for (const token of path.split('/').slice(1)) {
      if (token === '*') node = node.any ??= {};
      else {
        node.fields ??= new Map();
        let next = node.fields.get(token);
        if (next === undefined) node.fields.set(token, (next = {}));
        node = next;
      }
    }
    node.keys = [...keys].sort();
    any = true;
  }
  return any ? root : undefined;
}

/** The child node for a field (or map key) `key` of an object at `node`. */
export function fieldNode(node: KeyNode, key: string): KeyNode | undefined {
  return node.fields?.get(key) ?? node.any;
}

/**
 * Key trees by kind, compiled on first use of each kind and kept. The built-in table is fixed;
 * `setCustom` swaps in the custom resources' table (loaded from the cluster off the request path),
 * which wins over the built-in one for the kinds it names.
 */
export class ListKeyIndex {
  private readonly builtin: ListKeyTable;
  private custom: ListKeyTable = {};
  private compiled = new Map<string, KeyNode | null>();

  constructor(builtin: ListKeyTable = GENERATED_LIST_KEYS.kinds) {
    this.builtin = builtin;
  }

  /** Replace the custom resources' table (atomically: a review in flight keeps the tree it has). */
  setCustom(table: ListKeyTable): void {
    this.custom = table;
    this.compiled = new Map();
  }

  /** How many kinds the custom table names. */
  customKinds(): number {
    return Object.keys(this.custom).length;
  }

  /** The key tree of `group/version/Kind`, or undefined when none of its lists is keyed (or it is unknown). */
  forKind(group: string, version: string, kind: string): KeyNode | undefined {
    const id = kindId(group, version, kind);
    const hit = this.compiled.get(id);
    if (hit !== undefined) return hit ?? undefined;
    const entries = this.custom[id] ?? this.builtin[id];
    const tree = entries === undefined ? undefined : compileKindKeys(entries);
    this.compiled.set(id, tree ?? null);
    return tree;
  }

  /**
   * The key tree of a kind in any served version (policies and `policy lint` name group and kind,
   * not version): the union of the versions' tables.
   */
  forGroupKind(group: string, kind: string): KeyNode | undefined {
    const id = `${group}/*/${kind}`;
    const hit = this.compiled.get(id);
    if (hit !== undefined) return hit ?? undefined;
    const merged: Record<string, readonly string[]> = {};
    for (const table of [this.builtin, this.custom]) {
      for (const [k, entries] of Object.entries(table)) {
        const [g, , kd] = splitId(k);
        if (g === group && kd === kind) Object.assign(merged, entries);
      }
    }
    const tree = compileKindKeys(merged);
    this.compiled.set(id, tree ?? null);
    return tree;
  }
}

function splitId(id: string): [string, string, string] {
  const last = id.lastIndexOf('/');
  const mid = id.lastIndexOf('/', last - 1);
  return [id.slice(0, mid), id.slice(mid + 1, last), id.slice(last + 1)];
}

let shared: ListKeyIndex | undefined;

/** The index of the built-in kinds alone, for callers that have no cluster (CLI, tests). */
export function builtinListKeys(): ListKeyIndex {
  return (shared ??= new ListKeyIndex());
}
