/**
 * Policy text -> validated DriftPolicy documents, or diagnostics at file:line:column.
 * Pure: the caller reads the files. Several documents per file; empty documents are skipped.
 */
import { isMap, isScalar, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import type { $ZodIssue } from 'zod/v4/core';
import { closest, dottedPath, type Diagnostic } from './diagnostics.js';
import { jsonPathProblem } from './jsonpath.js';
import { policyJsonSchema, policySchema, type DriftPolicy } from './schema.js';
import type { SourceLocation } from './compile.js';

export interface ParsedPolicy {
  policy: DriftPolicy;
  source: SourceLocation;
}

export interface ParseResult {
  policies: ParsedPolicy[];
  diagnostics: Diagnostic[];
}

type JsonSchemaNode = {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  enum?: unknown[];
  const?: unknown;
};

let cachedSchema: JsonSchemaNode | undefined;
function schemaAt(path: readonly PropertyKey[]): JsonSchemaNode | undefined {
  cachedSchema ??= policyJsonSchema() as JsonSchemaNode;
  let node: JsonSchemaNode | undefined = cachedSchema;
  for (const p of path) {
    if (node === undefined) return undefined;
    node = typeof p === 'number' ? node.items : node.properties?.[String(p)];
  }
  return node;
}

function locate(lc: LineCounter, offset: number): { line: number; column: number } {
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function nodeAt(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  let keys = path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  // Walk up until a node exists: a missing required key is reported at its parent.
  while (keys.length > 0) {
    const n = doc.getIn(keys, true) as Node | undefined;
    if (n !== undefined && n !== null && typeof n === 'object' && 'range' in n) return n;
    keys = keys.slice(0, -1);
  }
  return (doc.contents as Node | null) ?? undefined;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function issueDiagnostics(issue: $ZodIssue, doc: Document, lc: LineCounter, file: string, value: unknown): Diagnostic[] {
  const path = issue.path;
  if (issue.code === 'unrecognized_keys') {
    const map = nodeAt(doc, path);
    const known = Object.keys(schemaAt(path)?.properties ?? {});
    return issue.keys.map((key) => {
      let offset = map?.range?.[0] ?? 0;
      if (map !== undefined && isMap(map)) {
        const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        if (pair !== undefined && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
      }
      const guess = closest(key, known);
      const d: Diagnostic = {
        file,
        ...locate(lc, offset),
        severity: 'error',
        code: 'DG_POLICY_INVALID',
        path: dottedPath([...path, key]),
        message: `unknown field \`${key}\`${guess === undefined ? '' : `, did you mean \`${guess}\`?`}`,
      };
      if (known.length > 0) d.hint = `fields here: ${known.join(', ')}`;
      return d;
    });
  }
  const node = nodeAt(doc, path);
  const offset = node?.range?.[0] ?? 0;
  const got = valueAt(value, path);
  const d: Diagnostic = {
    file,
    ...locate(lc, offset),
    severity: 'error',
    code: 'DG_POLICY_INVALID',
    path: dottedPath(path),
    message: issue.message,
  };
  if (issue.code === 'invalid_value' && typeof got === 'string') {
    const options = (issue.values ?? []).map(String);
    const guess = closest(got, options);
    d.message = `must be one of ${options.join(', ')}`;
    if (guess !== undefined) d.hint = `did you mean \`${guess}\`?`;
  }
  if (issue.code === 'invalid_type' && got === undefined) d.message = `${issue.expected} is required`;
  if (got !== undefined && (typeof got !== 'object' || got === null)) d.value = got;
  return [d];
}

/** Checks the schema cannot express: JSONPaths jsonpath-plus can evaluate. */
function semanticDiagnostics(policy: DriftPolicy, doc: Document, lc: LineCounter, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  policy.spec.exceptions.forEach((e, i) => {
    (e.jsonPaths ?? []).forEach((expr, j) => {
      const problem = jsonPathProblem(expr);
      if (problem === undefined) return;
      const path = ['spec', 'exceptions', i, 'jsonPaths', j];
      out.push({
        file,
        ...locate(lc, nodeAt(doc, path)?.range?.[0] ?? 0),
        severity: 'error',
        code: 'DG_POLICY_INVALID',
        path: dottedPath(path),
        message: `invalid JSONPath: ${problem}`,
        value: expr,
      });
    });
  });
  return out;
}

export function parsePolicyText(text: string, file: string): ParseResult {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  const result: ParseResult = { policies: [], diagnostics: [] };
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    // An empty stream parses to an EmptyStream: nothing to load, nothing wrong.
    return result;
  }
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        result.diagnostics.push({
          file,
          line: pos.line,
          column: pos.col,
          severity: 'error',
          code: 'DG_POLICY_PARSE',
          message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
        });
      }
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      result.diagnostics.push({
        file,
        ...locate(lc, doc.range[0]),
        severity: 'error',
        code: 'DG_POLICY_PARSE',
        message: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    if (value === null || value === undefined) continue;
    const parsed = policySchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) result.diagnostics.push(...issueDiagnostics(issue, doc, lc, file, value));
      continue;
    }
    const semantic = semanticDiagnostics(parsed.data, doc, lc, file);
    if (semantic.length > 0) {
      result.diagnostics.push(...semantic);
      continue;
    }
    result.policies.push({ policy: parsed.data, source: { file, ...locate(lc, doc.contents.range?.[0] ?? doc.range[0]) } });
  }
  return result;
}
