/**
 * Keyed paths: JSON Pointers (RFC 6901) in which an item of a list that Kubernetes identifies by
 * key is written by its key instead of its index, the selector appended to the list's own token:
 *
 *   /spec/template/spec/containers[name=api]/image
 *   /spec/template/spec/containers[name=api]/ports[containerPort=8080,protocol=TCP]
 *   /spec/template/spec/containers[name=api]/volumeMounts[mountPath="/data"]
 *
 * A path that crosses no keyed list is exactly its JSON Pointer (/spec/replicas), so every pointer
 * written before keyed paths existed is still a valid keyed path. Key fields are in name order; a
 * value is written bare when it is a number or a plain word ([A-Za-z0-9._:@+-], not a number,
 * true, false or null), else as a JSON string. docs/keyed-paths.md is the reference.
 */
import { escapeToken, unescapeToken } from './pointer.js';

/**
 * The longest key value a selector holds. Kubernetes names are at most 253 characters and paths
 * (mountPath) a few hundred; an item with a longer key value (possible only in an object the API
 * server has not validated yet, as the mutating observers see it) makes its list compared by index,
 * so a record's paths stay small.
 */
export const MAX_KEY_VALUE = 1024;

/** One key field of a list item and its value (a string, number or boolean). */
type KeyValue = string | number | boolean;

const BARE = /^[A-Za-z0-9._:@+-]+$/;
const NUMBERISH = /^-?[0-9]/;

function renderValue(v: KeyValue): string {
  if (typeof v !== 'string') return String(v);
  if (BARE.test(v) && !NUMBERISH.test(v) && v !== 'true' && v !== 'false' && v !== 'null') return v;
  return JSON.stringify(v);
}

/**
 * The selector of one list item, `[k=v,...]`, from its key fields (`keys` in name order), or
 * undefined when the item cannot be identified that way (not an object, no key field present, or
 * a key field that is not a scalar).
 */
export function itemSelector(item: unknown, keys: readonly string[]): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const o = item as Record<string, unknown>;
  let out = '';
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return undefined;
    if (typeof v === 'string' && v.length > MAX_KEY_VALUE) return undefined;
    out += `${out === '' ? '' : ','}${k}=${renderValue(v)}`;
  }
  return out === '' ? undefined : `[${out}]`;
}

/** A segment of a parsed keyed path: a token (a field, a map key or an index), or a list item by key. */
export type PathSegment = { token: string } | { keys: ReadonlyArray<readonly [string, KeyValue]> };

export class KeyedPathError extends Error {}

function parseValue(text: string, at: number): [KeyValue, number] {
  if (text[at] === '"') {
    // A JSON string: find its closing quote, honouring escapes.
    let i = at + 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) throw new KeyedPathError(`unterminated string at character ${at + 1}`);
    return [JSON.parse(text.slice(at, i + 1)) as string, i + 1];
  }
  let i = at;
  while (i < text.length && text[i] !== ',' && text[i] !== ']') i++;
  const raw = text.slice(at, i);
  if (raw === '') throw new KeyedPathError(`empty key value at character ${at + 1}`);
  if (raw === 'true' || raw === 'false') return [raw === 'true', i];
  if (NUMBERISH.test(raw)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new KeyedPathError(`bad number ${raw} at character ${at + 1}`);
    return [n, i];
  }
  if (!BARE.test(raw)) throw new KeyedPathError(`key value ${raw} must be quoted ("...") at character ${at + 1}`);
  return [raw, i];
}

/** Parse a keyed path (or a plain JSON Pointer) into segments; throws KeyedPathError with the position. */
export function parseKeyedPath(path: string): PathSegment[] {
  if (path === '') return [];
  if (path[0] !== '/') throw new KeyedPathError('a path starts with /');
  const out: PathSegment[] = [];
  let i = 1;
  let token = '';
  const flush = (): void => {
    out.push({ token: unescapeToken(token) });
    token = '';
  };
  while (i <= path.length) {
    const ch = path[i];
    if (ch === undefined) {
      flush();
      break;
    }
    if (ch === '/') {
      flush();
      i++;
      continue;
    }
    if (ch === '[') {
      if (token === '') throw new KeyedPathError(`a selector must follow a list's name, at character ${i + 1}`);
      flush();
      const keys: Array<[string, KeyValue]> = [];
      i++;
      for (;;) {
        const eq = path.indexOf('=', i);
        if (eq < 0) throw new KeyedPathError(`expected name=value at character ${i + 1}`);
        const name = path.slice(i, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new KeyedPathError(`bad key field name "${name}" at character ${i + 1}`);
        const [value, end] = parseValue(path, eq + 1);
        keys.push([name, value]);
        i = end;
        if (path[i] === ',') {
          i++;
          continue;
        }
        if (path[i] === ']') {
          i++;
          break;
        }
        throw new KeyedPathError(`expected , or ] at character ${i + 1}`);
      }
      out.push({ keys: keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)) });
      if (i < path.length && path[i] !== '/' && path[i] !== '[') throw new KeyedPathError(`expected / after ] at character ${i + 1}`);
      if (path[i] === '/') i++;
      else if (i >= path.length) break;
      continue;
    }
    token += ch;
    i++;
  }
  return out;
}

/** A parsed path written canonically (key fields in name order, values as `itemSelector` writes them). */
export function renderKeyedPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if ('token' in s) out += `/${escapeToken(s.token)}`;
    else out += `[${s.keys.map(([k, v]) => `${k}=${renderValue(v)}`).join(',')}]`;
  }
  return out;
}

/** The canonical form of a keyed path a person wrote (throws KeyedPathError when it does not parse). */
export function normalizeKeyedPath(path: string): string {
  return renderKeyedPath(parseKeyedPath(path));
}

/** True when keyed path `path` is `prefix` or lies below it (a field of it, or an item of the list it names). */
export function isAtOrBelowKeyed(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  if (path === prefix) return true;
  if (path.length <= prefix.length || !path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 91; /* [ */
}
