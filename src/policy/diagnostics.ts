/** A problem found in a policy file, located for editors and CI (file:line:column). */
import type { ErrorCode } from '../errors.js';
import type { LintCode, Severity } from './lint-codes.js';

export type { Severity };

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  /** Stable code: DG_* for load errors (src/errors.ts), DGL* for lint findings (lint-codes.ts); both in docs/errors.md. */
  code: ErrorCode | LintCode;
  message: string;
  /** Where in the document, as a dotted path: spec.allow[0].preset */
  path?: string;
  /** The offending value, when there is one. */
  value?: unknown;
  /** A likely fix. */
  hint?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.column}`;
  const path = d.path === undefined || d.path === '' ? '' : ` ${d.path}:`;
  const value = d.value === undefined ? '' : ` (got ${JSON.stringify(d.value)})`;
  const hint = d.hint === undefined ? '' : `\n    hint: ${d.hint}`;
  return `${where}: ${d.severity} ${d.code}:${path} ${d.message}${value}${hint}`;
}

export function dottedPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Edit distance, for "did you mean" hints on short keys. */
function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
