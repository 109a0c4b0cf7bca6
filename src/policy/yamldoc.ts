/**
 * YAML documents validated by a zod schema, with every problem located at file:line:column and,
 * where one is likely, a fix. Shared by policy files (parse.ts) and policy test suites
 * (../policytest/suite.ts). Pure: the caller reads the files.
 */
import type { ErrorCode } from '../errors.js';
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { ZodMiniType } from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import { closest, dottedPath, type Diagnostic } from './diagnostics.js';

export type DocPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

/** One YAML document of a file: its plain value and a way to find where any part of it was written. */
export interface YamlDoc {
  value: unknown;
  /** Where the value at `path` starts; a missing path resolves to its nearest existing parent. */
  locate(path: DocPath): Position;
  /** Where the key at the end of `path` is written (for "unknown field" and "duplicate" problems). */
  locateKey(path: DocPath): Position;
  /** Start of the document's content. */
  start: Position;
}

export interface YamlParse {
  docs: YamlDoc[];
  diagnostics: Diagnostic[];
}

type JsonSchemaNode = {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  $ref?: string;
  $defs?: Record<string, JsonSchemaNode>;
};

function positionOf(lc: LineCounter, offset: number): Position {
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function nodeAt(doc: Document, path: DocPath): Node | undefined {
  let keys = [...path];
  // Walk up until a node exists: a missing required key is reported at its parent.
  while (keys.length > 0) {
    const n = doc.getIn(keys, true) as Node | undefined;
    if (n !== undefined && n !== null && typeof n === 'object' && 'range' in n) return n;
    keys = keys.slice(0, -1);
  }
  return (doc.contents as Node | null) ?? undefined;
}

function keyOffset(doc: Document, path: DocPath): number | undefined {
  if (path.length === 0) return undefined;
  const parent = nodeAt(doc, path.slice(0, -1));
  const key = path[path.length - 1];
  if (parent === undefined || !isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
  return pair !== undefined && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
}

/** The offset of the innermost `open` bracket still unclosed at `offset` (quotes and comments skipped). */
function unclosedOpener(text: string, offset: number, open: '{' | '['): number | undefined {
  const stack: Array<{ c: string; at: number }> = [];
  let quote: string | undefined;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '{' || c === '[') stack.push({ c, at: i });
    else if ((c === '}' || c === ']') && stack.length > 0) stack.pop();
  }
  for (let k = stack.length - 1; k >= 0; k--) if (stack[k]!.c === open) return stack[k]!.at;
  return undefined;
}

/**
 * Parse every document of a YAML stream. Syntax errors become DG_POLICY_PARSE-style diagnostics
 * with `parseCode`; empty documents are skipped.
 */
export function parseYamlDocuments(text: string, file: string, parseCode: ErrorCode): YamlParse {
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  const out: YamlParse = { docs: [], diagnostics: [] };
  // An empty stream parses to an EmptyStream: nothing to load, nothing wrong.
  if (!Array.isArray(parsed)) return out;
  for (const doc of parsed) {
    if (doc.errors.length > 0) {
      const seen = new Set<string>();
      for (const e of doc.errors) {
        let pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        let message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        // The library notices an unclosed { or [ where the next line starts; the mistake is the opener.
        const closer = /end with an? ([}\]])$/.exec(message)?.[1];
        const opener = closer === undefined ? undefined : unclosedOpener(text, e.pos[0], closer === '}' ? '{' : '[');
        if (opener !== undefined) {
          const at = lc.linePos(opener);
          pos = at;
          message = `this ${closer === '}' ? '{' : '['} is never closed with ${closer} (${message.replace(/^Flow (map|sequence) in block collection /, 'a flow $1 in a block collection ')})`;
        }
        // One mistake, one finding: the library can report the same one several times.
        const key = `${pos.line}:${pos.col}:${message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.diagnostics.push({ file, line: pos.line, column: pos.col, severity: 'error', code: parseCode, message });
      }
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      out.diagnostics.push({
        file,
        ...positionOf(lc, doc.range[0]),
        severity: 'error',
        code: parseCode,
        message: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    const start = positionOf(lc, doc.contents.range?.[0] ?? doc.range[0]);
    out.docs.push({
      value,
      start,
      locate: (path) => positionOf(lc, nodeAt(doc, path)?.range?.[0] ?? doc.range[0]),
      locateKey: (path) => {
        const offset = keyOffset(doc, path);
        return offset === undefined ? positionOf(lc, nodeAt(doc, path)?.range?.[0] ?? doc.range[0]) : positionOf(lc, offset);
      },
    });
  }
  return out;
}

function resolve(root: JsonSchemaNode, node: JsonSchemaNode | undefined): JsonSchemaNode | undefined {
  let n = node;
  for (let i = 0; i < 8 && n?.$ref !== undefined; i++) {
    const name = n.$ref.replace(/^#\/\$defs\//, '');
    n = root.$defs?.[name];
  }
  return n;
}

/** The field names the JSON Schema allows at `path` (for "did you mean"). */
function knownFields(root: JsonSchemaNode, path: DocPath): string[] {
  let node: JsonSchemaNode | undefined = resolve(root, root);
  for (const p of path) {
    if (node === undefined) return [];
    const next: JsonSchemaNode | undefined = typeof p === 'number' ? node.items : node.properties?.[String(p)];
    node = resolve(
      root,
      next ?? node.anyOf?.map((a) => resolve(root, a)).find((a) => a?.properties !== undefined || a?.items !== undefined),
    );
    if (node?.anyOf !== undefined && node.properties === undefined && node.items === undefined) {
      node = node.anyOf.map((a) => resolve(root, a)).find((a) => a?.properties !== undefined || a?.items !== undefined);
    }
  }
  return Object.keys(node?.properties ?? {});
}

function valueAt(value: unknown, path: DocPath): unknown {
  let v = value;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** What zod's expected types are called in a diagnostic (zod says `int` for a whole number). */
const EXPECTED: Readonly<Record<string, string>> = { array: 'a list', object: 'a map', int: 'a whole number' };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

/** A likely fix for a value the schema rejected, or undefined. Callers add their own (see `hints`). */
type HintFor = (path: DocPath, got: unknown, issue: $ZodIssue) => string | undefined;

export interface SchemaCheck<T> {
  schema: ZodMiniType<T>;
  /** The JSON Schema generated from `schema`, for the names of allowed fields. */
  jsonSchema: Record<string, unknown>;
  code: ErrorCode;
  hint?: HintFor;
}

/** Validate one document; on failure, one diagnostic per problem, each located and explained. */
export function checkDocument<T>(
  doc: YamlDoc,
  file: string,
  check: SchemaCheck<T>,
): { ok: true; data: T } | { ok: false; diagnostics: Diagnostic[] } {
  const parsed = check.schema.safeParse(doc.value);
  if (parsed.success) return { ok: true, data: parsed.data };
  const diagnostics: Diagnostic[] = [];
  // A misspelt key also leaves its map incomplete ("needs exactly one of ..."): report the key only.
  const misspelt = new Set(parsed.error.issues.filter((i) => i.code === 'unrecognized_keys').map((i) => i.path.join('.')));
  const issues = parsed.error.issues.filter((i) => !(i.code === 'custom' && misspelt.has(i.path.join('.'))));
  for (const issue of issues) diagnostics.push(...issueDiagnostics(issue, doc, file, check));
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, diagnostics };
}

function issueDiagnostics<T>(issue: $ZodIssue, doc: YamlDoc, file: string, check: SchemaCheck<T>): Diagnostic[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const known = knownFields(check.jsonSchema as JsonSchemaNode, path);
    return issue.keys.map((key) => {
      const guess = closest(key, known);
      const d: Diagnostic = {
        file,
        ...doc.locateKey([...path, key]),
        severity: 'error',
        code: check.code,
        path: dottedPath([...path, key]),
        message: `unknown field \`${key}\`${guess === undefined ? '' : `, did you mean \`${guess}\`?`}`,
      };
      if (known.length > 0)
        d.hint =
          guess === undefined
            ? `fields allowed here: ${known.join(', ')}`
            : `rename it to \`${guess}\` (fields allowed here: ${known.join(', ')})`;
      return d;
    });
  }
  const got = valueAt(doc.value, path);
  const d: Diagnostic = { file, ...doc.locate(path), severity: 'error', code: check.code, path: dottedPath(path), message: issue.message };
  if (issue.code === 'invalid_value' && got === undefined) {
    const options = (issue.values ?? []).map(String);
    const field = path.length > 0 ? `\`${String(path[path.length - 1])}\`` : 'the document';
    d.message = options.length === 1 ? `${field} is required (${options[0]})` : `${field} is required (one of ${options.join(', ')})`;
  } else if (issue.code === 'invalid_value' && typeof got === 'string') {
    const options = (issue.values ?? []).map(String);
    const guess = closest(got, options);
    d.message = options.length === 1 ? `must be ${options[0]}` : `must be one of ${options.join(', ')}`;
    if (guess !== undefined) d.hint = `did you mean \`${guess}\`?`;
  } else if (issue.code === 'invalid_type') {
    const field = path.length > 0 ? `\`${String(path[path.length - 1])}\`` : 'the document';
    if (got === undefined) {
      d.message = `${field} is required (${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a map' : `a ${issue.expected}`})`;
    } else {
      d.message = `${field} must be ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}, not ${typeName(got)}`;
      if (issue.expected === 'array' && (typeof got === 'string' || typeof got === 'number'))
        d.hint = `write it as a list: [${JSON.stringify(got)}]`;
    }
  }
  const extra = check.hint?.(path, got, issue);
  if (extra !== undefined) d.hint = extra;
  if (got !== undefined && (typeof got !== 'object' || got === null)) d.value = got;
  return [d];
}
