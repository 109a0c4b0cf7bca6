/**
 * `policy lint`: every load diagnostic plus findings that are not errors (an expired break-glass
 * entry). Pure over parsed files; the CLI does the reading.
 */
import type { Diagnostic } from './diagnostics.js';
import { readPolicies } from './load.js';

export interface LintReport {
  files: string[];
  policies: number;
  diagnostics: Diagnostic[];
}

export async function lintPolicies(targets: readonly string[], now: Date): Promise<LintReport> {
  const { set, diagnostics } = await readPolicies(targets);
  const findings: Diagnostic[] = [...diagnostics];
  for (const p of set.policies) {
    p.breakGlass.forEach((bg, i) => {
      if (bg.expiresAt <= now.getTime()) {
        findings.push({
          ...p.source,
          severity: 'warning',
          code: 'DGL001',
          path: `spec.breakGlass[${i}].expires`,
          message: `break-glass entry expired at ${bg.expires}; it no longer allows anything`,
          hint: 'remove the entry once the incident is closed',
        });
      }
    });
  }
  findings.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
  return { files: [...set.files], policies: set.policies.length, diagnostics: findings };
}
