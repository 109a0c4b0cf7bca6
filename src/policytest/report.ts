/** Test run -> text: a table for people, JSON for tools, JUnit XML for CI systems. Pure. */
import path from 'node:path';
import { changeLabel } from '../engine/field-list.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import type { Expected } from './compare.js';
import type { CaseResult, SuiteResult, TestRun } from './run.js';

export interface TableOptions {
  /** Show each policy's result and why it applied or was skipped. */
  explain?: boolean;
  /** Paths are shown relative to this directory. */
  cwd: string;
}

const LABEL: Record<CaseResult['status'], string> = { passed: 'PASS ', failed: 'FAIL ', error: 'ERROR' };

function describeExpected(e: Expected): string {
  const parts: string[] = [e.result];
  if (e.policy !== undefined) parts.push(`by ${e.policy}`);
  if (e.violated !== undefined) parts.push(`violated [${e.violated.join(', ')}] (captured)`);
  return parts.join(' ');
}

function describeActual(c: CaseResult): string {
  const a = c.actual;
  if (a === undefined) return '';
  const deciding = a.policies.filter((p) => p.status !== 'skip' && p.status !== 'pass').map((p) => `${p.policy} ${p.status}`);
  return deciding.length === 0 ? a.result : `${a.result} (${deciding.join(', ')})`;
}

function explainLines(c: CaseResult, indent: string): string[] {
  const a = c.actual;
  if (a === undefined) return [];
  const width = Math.max(6, ...a.policies.map((p) => p.policy.length));
  const out: string[] = [];
  for (const p of a.policies) {
    out.push(`${indent}${p.policy.padEnd(width)}  ${p.status.padEnd(10)}  ${p.reason}`);
    for (const v of (p.violations ?? []).slice(0, 5))
      out.push(`${indent}${' '.repeat(width)}  ${''.padEnd(10)}  ${v.op} ${changeLabel(v)}`);
  }
  if (a.policies.length === 0) out.push(`${indent}(no policies)`);
  return out;
}

function suiteHeader(s: SuiteResult, cwd: string): string {
  return `${path.relative(cwd, s.file) || s.file}  (${s.name})`;
}

export function formatTable(run: TestRun, opts: TableOptions): string {
  const lines: string[] = [];
  for (const s of run.suites) {
    lines.push(suiteHeader(s, opts.cwd));
    if (s.diagnostics.length > 0) {
      lines.push('  ERROR  the suite cannot run:');
      for (const d of s.diagnostics)
        lines.push(`    ${formatDiagnostic({ ...d, file: path.relative(opts.cwd, d.file) || d.file }).replace(/\n/g, '\n    ')}`);
      lines.push('');
      continue;
    }
    const width = Math.min(60, Math.max(...s.cases.map((c) => c.name.length), 4));
    for (const c of s.cases) {
      const summary = c.status === 'error' ? (c.error ?? '') : c.status === 'passed' ? describeActual(c) : '';
      lines.push(`  ${LABEL[c.status]}  ${c.name.padEnd(width)}  ${summary}`.trimEnd());
      const indent = '         ';
      if (c.status !== 'passed') lines.push(`${indent}at ${path.relative(opts.cwd, s.file)}:${c.line}:${c.column}`);
      if (c.status === 'failed') {
        if (c.expected !== undefined) lines.push(`${indent}expected: ${describeExpected(c.expected)}`);
        lines.push(`${indent}actual:   ${describeActual(c)}`);
        if (c.actual?.message !== undefined) lines.push(`${indent}message:  ${c.actual.message}`);
        for (const w of c.actual?.warnings ?? []) lines.push(`${indent}warning:  ${w}`);
        for (const f of c.failures) lines.push(`${indent}- ${f}`);
      }
      if (opts.explain === true || c.status === 'failed') lines.push(...explainLines(c, `${indent}  `));
    }
    lines.push('');
  }
  const t = run.summary;
  const invalid = t.invalidSuites > 0 ? `, ${t.invalidSuites} suite(s) could not run` : '';
  lines.push(
    `${t.suites} suite(s), ${t.cases} case(s): ${t.passed} passed, ${t.failed} failed, ${t.errors} error(s)${invalid} in ${Math.round(t.durationMs)} ms`,
  );
  return lines.join('\n');
}

/** The run as JSON (durations rounded to 0.1 ms). */
export function toJson(run: TestRun, cwd: string): unknown {
  const ms = (n: number) => Math.round(n * 10) / 10;
  return {
    summary: { ...run.summary, durationMs: ms(run.summary.durationMs) },
    suites: run.suites.map((s) => ({
      file: path.relative(cwd, s.file) || s.file,
      name: s.name,
      durationMs: ms(s.durationMs),
      diagnostics: s.diagnostics.map((d) => ({ ...d, file: path.relative(cwd, d.file) || d.file })),
      cases: s.cases.map((c) => ({ ...c, durationMs: ms(c.durationMs) })),
    })),
  };
}

/** Characters XML 1.0 cannot carry at all, then the five it needs escaped. */
function xmlEscape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function attrs(a: Record<string, string | number>): string {
  return Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one testsuite per suite file. */
export function formatJunit(run: TestRun, cwd: string): string {
  const t = run.summary;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${attrs({ name: 'driftguard policy test', tests: t.cases + t.invalidSuites, failures: t.failed, errors: t.errors + t.invalidSuites, time: seconds(t.durationMs) })}>`,
  );
  for (const s of run.suites) {
    const file = path.relative(cwd, s.file) || s.file;
    if (s.diagnostics.length > 0) {
      out.push(`  <testsuite${attrs({ name: s.name, file, tests: 1, failures: 0, errors: 1, time: seconds(s.durationMs) })}>`);
      out.push(`    <testcase${attrs({ name: 'suite file', classname: s.name, file, time: '0.000' })}>`);
      const text = s.diagnostics.map((d) => formatDiagnostic({ ...d, file: path.relative(cwd, d.file) || d.file })).join('\n');
      out.push(
        `      <error${attrs({ message: 'the suite cannot run', type: s.diagnostics[0]?.code ?? 'DG_TEST_INVALID' })}>${xmlEscape(text)}</error>`,
      );
      out.push('    </testcase>');
      out.push('  </testsuite>');
      continue;
    }
    const failures = s.cases.filter((c) => c.status === 'failed').length;
    const errors = s.cases.filter((c) => c.status === 'error').length;
    out.push(`  <testsuite${attrs({ name: s.name, file, tests: s.cases.length, failures, errors, time: seconds(s.durationMs) })}>`);
    for (const c of s.cases) {
      const open = `    <testcase${attrs({ name: c.name, classname: s.name, file, line: c.line, time: seconds(c.durationMs) })}`;
      if (c.status === 'passed') {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      if (c.status === 'error') {
        out.push(`      <error${attrs({ message: c.error ?? 'error', type: 'DG_TEST_INVALID' })}>${xmlEscape(c.error ?? '')}</error>`);
      } else {
        const body = [
          c.expected === undefined ? '' : `expected: ${describeExpected(c.expected)}`,
          `actual:   ${describeActual(c)}`,
          c.actual?.message === undefined ? '' : `message:  ${c.actual.message}`,
          ...c.failures.map((f) => `- ${f}`),
        ].filter((l) => l !== '');
        out.push(
          `      <failure${attrs({ message: c.failures[0] ?? 'mismatch', type: 'mismatch' })}>${xmlEscape(body.join('\n'))}</failure>`,
        );
      }
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
