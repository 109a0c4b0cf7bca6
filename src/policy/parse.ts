/**
 * Policy text -> validated DriftPolicy documents, or diagnostics at file:line:column with the
 * offending value and a likely fix. Pure: the caller reads the files. Several documents per file;
 * empty documents are skipped.
 */
import type { $ZodIssue } from 'zod/v4/core';
import { dottedPath, type Diagnostic } from './diagnostics.js';
import { jsonPathProblem } from '../match/jsonpath.js';
import { policyJsonSchema, policySchema, type DriftPolicy } from './schema.js';
import type { SourceLocation } from './compile.js';
import { checkDocument, parseYamlDocuments, type DocPath, type Position, type SchemaCheck } from './yamldoc.js';

export interface ParsedPolicy {
  policy: DriftPolicy;
  source: SourceLocation;
  /** Where a part of this policy was written (for lint findings): a path into the document. */
  locate?: (path: DocPath) => Position;
}

export interface ParseResult {
  policies: ParsedPolicy[];
  diagnostics: Diagnostic[];
}

/** A lowercase DNS name close to what was written. */
function dnsName(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
}

/** A JSON Pointer for what an author probably meant: dotted paths, missing leading "/", bare "~". */
export function pointerFix(text: string): string | undefined {
  let t = text.trim();
  if (t.startsWith('$.')) return undefined; // a JSONPath: belongs in jsonPaths
  if (!t.startsWith('/')) t = `/${t.replace(/\./g, '/')}`;
  t = t.replace(/~(?![01])/g, '~0');
  return t === text ? undefined : t;
}

/** An RFC 3339 time close to what was written: a date alone, a space for T, no zone. */
export function timeFix(text: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (m === null) return undefined;
  const time = m[2] === undefined ? '00:00:00' : m[2].length === 5 ? `${m[2]}:00` : m[2];
  const zone =
    m[3] === undefined ? 'Z' : m[3].toUpperCase() === 'Z' ? 'Z' : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
  const fixed = `${m[1]}T${time}${zone}`;
  return Number.isNaN(Date.parse(fixed)) || fixed === text ? undefined : fixed;
}

const SA_USERNAME = /^system:serviceaccount:([^:\s]+):([^:\s]+)$/;

function policyHint(path: DocPath, got: unknown, issue: $ZodIssue): string | undefined {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (typeof got === 'string') {
    if (path.join('.') === 'metadata.name') {
      const fixed = dnsName(got);
      return fixed === '' ? undefined : `try \`${fixed}\``;
    }
    if (last === 'serviceAccount') {
      const m = SA_USERNAME.exec(got);
      if (m !== null) return `write the ServiceAccount as \`${m[1]}/${m[2]}\` (driftguard adds system:serviceaccount:)`;
      if (!got.includes('/')) return `add its namespace: \`NAMESPACE/${got}\``;
    }
    if (last === 'expires') {
      const fixed = timeFix(got);
      if (fixed !== undefined) return `write \`"${fixed}"\` (quoted, with a time and a zone)`;
    }
    if (parent === 'paths' && typeof last === 'number') {
      if (got.startsWith('$')) return 'this is a JSONPath: move it to `jsonPaths`';
      const fixed = pointerFix(got);
      if (fixed !== undefined) return `did you mean \`${fixed}\`?`;
    }
  }
  if (issue.code === 'custom' && issue.message.startsWith('an actor takes exactly one of')) {
    return 'write one actor per list item, e.g. `- user: alice` and `- group: oncall` as two entries';
  }
  return undefined;
}

let policyCheck: SchemaCheck<DriftPolicy> | undefined;
let policyJson: Record<string, unknown> | undefined;
function check(): SchemaCheck<DriftPolicy> {
  policyCheck ??= {
    schema: policySchema,
    // Generated when a problem needs the allowed field names, not on every start.
    get jsonSchema() {
      policyJson ??= policyJsonSchema();
      return policyJson;
    },
    code: 'DG_POLICY_INVALID',
    hint: policyHint,
  };
  return policyCheck;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/**
 * Checks the schema cannot express: JSONPaths jsonpath-plus can evaluate. Read from the raw
 * document, so they are reported alongside schema errors, not only once those are fixed.
 */
function semanticDiagnostics(value: unknown, locate: (path: DocPath) => Position, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const spec = (value as { spec?: { exceptions?: unknown } } | null)?.spec;
  list(typeof spec === 'object' && spec !== null ? spec.exceptions : undefined).forEach((e, i) => {
    list((e as { jsonPaths?: unknown } | null)?.jsonPaths).forEach((expr, j) => {
      if (typeof expr !== 'string' || expr === '') return;
      const problem = jsonPathProblem(expr);
      if (problem === undefined) return;
      const path = ['spec', 'exceptions', i, 'jsonPaths', j];
      const d: Diagnostic = {
        file,
        ...locate(path),
        severity: 'error',
        code: 'DG_POLICY_INVALID',
        path: dottedPath(path),
        message: `invalid JSONPath: ${problem.message}`,
        value: expr,
      };
      if (problem.fix !== undefined) d.hint = `did you mean \`${problem.fix}\`?`;
      out.push(d);
    });
  });
  return out;
}

export function parsePolicyText(text: string, file: string): ParseResult {
  const yaml = parseYamlDocuments(text, file, 'DG_POLICY_PARSE');
  const result: ParseResult = { policies: [], diagnostics: [...yaml.diagnostics] };
  for (const doc of yaml.docs) {
    const checked = checkDocument(doc, file, check());
    const semantic = semanticDiagnostics(doc.value, doc.locate, file);
    if (!checked.ok || semantic.length > 0) {
      result.diagnostics.push(...(checked.ok ? [] : checked.diagnostics), ...semantic);
      continue;
    }
    result.policies.push({ policy: checked.data, source: { file, ...doc.start }, locate: doc.locate });
  }
  return result;
}
