/**
 * The lint findings `policy lint` can report, each with its one severity. docs/errors.md lists the
 * same codes (test/policy/lint-findings.test.ts compares the two). Load errors use the DG_* codes of
 * src/errors.ts instead.
 */
/** How bad a finding is: an error fails `policy lint`, a warning only with --strict. */
export type Severity = 'error' | 'warning';

export interface LintCodeSpec {
  severity: Severity;
  summary: string;
}

export const LINT_CODES = {
  DGL001: { severity: 'warning', summary: 'A break-glass entry has expired.' },
  DGL002: { severity: 'warning', summary: 'The policy can never match.' },
  DGL003: { severity: 'warning', summary: 'One kind can never match where it is listed.' },
  DGL004: { severity: 'warning', summary: 'The policy can never deny.' },
  DGL005: { severity: 'warning', summary: 'A setting has no effect.' },
  DGL006: { severity: 'warning', summary: 'An actor name that is probably not what was meant.' },
  DGL010: { severity: 'error', summary: 'A pattern can never match a name.' },
  DGL011: { severity: 'error', summary: 'A JSON Pointer or JSONPath reads below a label or annotation value.' },
} as const satisfies Record<string, LintCodeSpec>;

export type LintCode = keyof typeof LINT_CODES;

/** The code and its severity, to spread into a finding. */
export function lintCode<C extends LintCode>(code: C): { code: C; severity: (typeof LINT_CODES)[C]['severity'] } {
  return { code, severity: LINT_CODES[code].severity };
}
