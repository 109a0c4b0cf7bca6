/**
 * JSONPath exceptions (jsonpath-plus). A path with no wildcard, filter or recursive descent is
 * turned into a JSON Pointer at load time (the common case: one annotation); any other path is
 * evaluated against the request's objects, with jsonpath-plus's safe evaluator (no `eval`).
 */
import { JSONPath } from 'jsonpath-plus';
import { toPointer } from './pointer.js';

const DYNAMIC_TOKEN = /^(\*|\.\.|\?\(.*|\(.*|@.*|\^|~|`.*|\$.*)$/s;

export interface CompiledJsonPath {
  expression: string;
  /** Set when the path names one fixed location. */
  pointer?: string;
  /**
   * Set when the path is fixed names and `*` only (`$.spec.template.spec.containers[*].resources`):
   * its tokens, `*` for any one member. A change lies at or below what such a path selects exactly
   * when its pointer starts with tokens that match, so it is judged from the change's path alone,
   * with no walk of the objects.
   */
  pattern?: readonly string[];
}

export interface JsonPathProblem {
  message: string;
  /** A corrected expression, when one is likely. */
  fix?: string;
}

/** Undefined when the expression is usable, else what is wrong with it (and a likely fix). */
export function jsonPathProblem(expression: string): JsonPathProblem | undefined {
  if (!expression.startsWith('$')) {
    const fix =
      expression.startsWith('.') || expression.startsWith('[')
        ? `$${expression}`
        : expression.startsWith('/')
          ? undefined
          : `$.${expression}`;
    return {
      message: expression.startsWith('/')
        ? 'a JSONPath starts with "$"; this looks like a JSON Pointer: put it in `paths`'
        : 'a JSONPath starts with "$", e.g. $.spec.replicas',
      ...(fix === undefined ? {} : { fix }),
    };
  }
  const open: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '(') open.push(c === '[' ? ']' : ')');
    else if (c === ']' || c === ')') {
      if (open.pop() !== c) return { message: `unbalanced "${c}" at offset ${i}` };
    }
  }
  const closing = open.reverse().join('');
  if (quote !== undefined) return { message: 'unterminated quoted name', fix: `${expression}${quote}${closing}` };
  if (closing !== '') return { message: `unbalanced brackets: "${closing}" missing at the end`, fix: `${expression}${closing}` };
  if (/\.\s*$|\[\s*\]/.test(expression)) return { message: 'empty path segment' };
  try {
    JSONPath({ path: expression, json: { a: [{ b: 1 }] }, eval: 'safe', wrap: true });
  } catch (err) {
    return { message: `jsonpath-plus cannot evaluate it: ${err instanceof Error ? err.message : String(err)}` };
  }
  return undefined;
}

export function compileJsonPath(expression: string): CompiledJsonPath {
  const tokens = JSONPath.toPathArray(expression).slice(1);
  if (tokens.length > 0 && tokens.every((t) => !DYNAMIC_TOKEN.test(t))) {
    return { expression, pointer: toPointer(tokens) };
  }
  if (tokens.length > 0 && tokens.every((t) => t === '*' || !DYNAMIC_TOKEN.test(t))) {
    return { expression, pattern: [...tokens] };
  }
  return { expression };
}

/** Whether a pointer's tokens (unescaped) lie at or below a location `pattern` matches. */
export function matchesPattern(tokens: readonly string[], pattern: readonly string[]): boolean {
  if (tokens.length < pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p !== '*' && p !== tokens[i]) return false;
  }
  return true;
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
