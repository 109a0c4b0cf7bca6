/**
 * JSONPath exceptions (jsonpath-plus). A path with no wildcard, filter or recursive descent is
 * turned into a JSON Pointer at load time (the common case: one annotation); any other path is
 * evaluated against the request's objects, with jsonpath-plus's safe evaluator (no `eval`).
 */
import { JSONPath } from 'jsonpath-plus';
import { toPointer } from '../engine/pointer.js';

const DYNAMIC_TOKEN = /^(\*|\.\.|\?\(.*|\(.*|@.*|\^|~|`.*|\$.*)$/s;

export interface CompiledJsonPath {
  expression: string;
  /** Set when the path names one fixed location. */
  pointer?: string;
}

/** Undefined when the expression is usable, else what is wrong with it. */
export function jsonPathProblem(expression: string): string | undefined {
  if (!expression.startsWith('$')) return 'a JSONPath starts with "$", e.g. $.spec.replicas';
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') {
      depth--;
      if (depth < 0) return `unbalanced "${c}" at offset ${i}`;
    }
  }
  if (quote !== undefined) return 'unterminated quoted name';
  if (depth !== 0) return 'unbalanced brackets';
  if (/\.\s*$|\[\s*\]/.test(expression)) return 'empty path segment';
  try {
    JSONPath({ path: expression, json: { a: [{ b: 1 }] }, eval: 'safe', wrap: true });
  } catch (err) {
    return `jsonpath-plus cannot evaluate it: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

export function compileJsonPath(expression: string): CompiledJsonPath {
  const tokens = JSONPath.toPathArray(expression).slice(1);
  if (tokens.length > 0 && tokens.every((t) => !DYNAMIC_TOKEN.test(t))) {
    return { expression, pointer: toPointer(tokens) };
  }
  return { expression };
}

/** Pointers the expression selects in `json`; never throws (a failing path selects nothing). */
export function selectPointers(expression: string, json: unknown): string[] {
  if (typeof json !== 'object' || json === null) return [];
  try {
    const out = JSONPath({ path: expression, json: json as object, resultType: 'pointer', eval: 'safe', wrap: true }) as unknown;
    return Array.isArray(out) ? out.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}
