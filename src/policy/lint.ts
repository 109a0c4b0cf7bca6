/**
 * `policy lint`: every load diagnostic (schema, YAML, JSONPath, duplicate names) plus the findings
 * of checks.ts: patterns that can never match, unescaped label and annotation keys, policies that
 * can never match or never deny, expired break-glass entries. The CLI prints the report.
 */
import type { RegisteredWebhook } from './coverage.js';
import { coverageGapFindings, expiredBreakGlass, policyFindings } from './checks.js';
import { DriftguardError } from '../errors.js';
import type { Diagnostic } from './diagnostics.js';
import { readPolicies } from './load.js';

export interface LintReport {
  files: string[];
  /** Policies that loaded (lint-only errors do not stop a policy from loading). */
  policies: number;
  diagnostics: Diagnostic[];
}

function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.column - b.column || a.code.localeCompare(b.code) : a.file < b.file ? -1 : 1,
  );
}

/** `webhooks`: a registered validating webhook to check the policies' coverage against (DGL013), and the file it came from. */
export async function lintPolicies(
  targets: readonly string[],
  now: Date,
  webhooks?: { file: string; webhook: RegisteredWebhook },
): Promise<LintReport> {
  const { set, diagnostics, parsed } = await readPolicies(targets);
  // As serve and evaluate do: a path with nothing to check is a mistake (a typo in a CI job), not a pass.
  if (set.files.length === 0) throw new DriftguardError('DG_POLICY_DIR', `no policy files (*.yaml, *.yml) in ${targets.join(', ')}`);
  const findings: Diagnostic[] = [...diagnostics];
  for (const p of parsed) findings.push(...policyFindings(p), ...expiredBreakGlass(p, now));
  if (webhooks !== undefined) for (const p of parsed) findings.push(...coverageGapFindings(p, webhooks.webhook, webhooks.file));
  return { files: [...set.files], policies: set.policies.length, diagnostics: sortDiagnostics(findings) };
}
