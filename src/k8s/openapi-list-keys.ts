/**
 * The keyed lists of every kind an OpenAPI v3 document (one group-version of a kube-apiserver's
 * /openapi/v3) defines. A list is keyed by its `x-kubernetes-list-map-keys` when its
 * `x-kubernetes-list-type` is `map` (server-side apply's identity, `k:{"name":"api"}` in
 * managedFields), else by its `x-kubernetes-patch-merge-key` (strategic merge patch's) unless its
 * list type says `atomic` or `set`. Pure: a parsed document in, a table out.
 */
import { kindId, type ListKeyTable } from './list-keys.js';

type Schema = Record<string, unknown>;

interface OpenApiDocument {
  components?: { schemas?: Record<string, Schema> };
}

/** Never walked: the diff never descends into them (status and managedFields are never drift). */
const SKIPPED_TOP = new Set(['status']);
const SKIPPED_META = new Set(['managedFields']);
/** Deep enough for any built-in kind (a CronJob's pod spec is 6 levels down); recursive CRD schemas stop here. */
const MAX_DEPTH = 40;

/** RFC 6901: "~" and "/" inside a property name. */
function escapeToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObj(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refName(s: Schema): string | undefined {
  if (typeof s.$ref === 'string') return s.$ref;
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && isObj(s.allOf[0]) && typeof s.allOf[0].$ref === 'string') return s.allOf[0].$ref;
  return undefined;
}

/** The keys of a list schema, or undefined when its items are not identified by key. */
function listKeysOf(s: Schema): string[] | undefined {
  const type = s['x-kubernetes-list-type'];
  const mapKeys = s['x-kubernetes-list-map-keys'];
  if (type === 'map' && Array.isArray(mapKeys) && mapKeys.length > 0 && mapKeys.every((k) => typeof k === 'string')) return [...mapKeys];
  if (type === 'atomic' || type === 'set') return undefined;
  const merge = s['x-kubernetes-patch-merge-key'];
  return typeof merge === 'string' && merge !== '' ? [merge] : undefined;
}

export function listKeysFromOpenApi(doc: unknown): ListKeyTable {
  const schemas = isObj(doc) && isObj((doc as OpenApiDocument).components) ? ((doc as OpenApiDocument).components?.schemas ?? {}) : {};
  const resolve = (ref: string): Schema | undefined => {
    const name = ref.startsWith('#/components/schemas/') ? ref.slice('#/components/schemas/'.length) : undefined;
    const s = name === undefined ? undefined : schemas[name];
    return isObj(s) ? s : undefined;
  };
  const out: Record<string, Record<string, string[]>> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    if (!isObj(schema)) continue;
    const gvks = schema['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks)) continue;
    // Lists of objects (DeploymentList, ...) never reach admission.
    if (gvks.every((g) => isObj(g) && typeof g.kind === 'string' && g.kind.endsWith('List'))) continue;
    const found: Record<string, string[]> = {};
    walk(schema, '', 0, new Set([`#/components/schemas/${name}`]), found, resolve);
    if (Object.keys(found).length === 0) continue;
    for (const g of gvks) {
      if (!isObj(g) || typeof g.version !== 'string' || typeof g.kind !== 'string') continue;
      const id = kindId(typeof g.group === 'string' ? g.group : '', g.version, g.kind);
      out[id] = sortedEntries({ ...(out[id] ?? {}), ...found });
    }
  }
  return sortedEntries(out);
}

function sortedEntries<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function walk(
  schema: Schema,
  path: string,
  depth: number,
  refs: ReadonlySet<string>,
  found: Record<string, string[]>,
  resolve: (ref: string) => Schema | undefined,
): void {
  if (depth > MAX_DEPTH) return;
  const ref = refName(schema);
  if (ref !== undefined) {
    if (refs.has(ref)) return;
    const target = resolve(ref);
    if (target === undefined) return;
    // The list extensions sit beside the $ref (allOf) on the property, not on the referenced schema.
    walk({ ...target, ...withoutRef(schema) }, path, depth + 1, new Set([...refs, ref]), found, resolve);
    return;
  }
  const type = schema.type;
  if (type === 'array' || isObj(schema.items)) {
    const keys = listKeysOf(schema);
    if (keys !== undefined) found[path] = keys;
    if (isObj(schema.items)) walk(schema.items, `${path}/*`, depth + 1, refs, found, resolve);
    return;
  }
  const props = schema.properties;
  if (isObj(props)) {
    for (const [k, sub] of Object.entries(props)) {
      if (!isObj(sub)) continue;
      if (path === '' && SKIPPED_TOP.has(k)) continue;
      if (path === '/metadata' && SKIPPED_META.has(k)) continue;
      walk(sub, `${path}/${escapeToken(k)}`, depth + 1, refs, found, resolve);
    }
  }
  if (isObj(schema.additionalProperties)) walk(schema.additionalProperties, `${path}/*`, depth + 1, refs, found, resolve);
}

function withoutRef(s: Schema): Schema {
  const { $ref: _r, allOf: _a, description: _d, default: _def, ...rest } = s;
  return rest;
}
