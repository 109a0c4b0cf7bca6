/**
 * `driftguard policy test`: find suites (discover.ts), make each case ready (prepare.ts), run it
 * through the same handler as the server (validate() with records kept in memory), and compare with
 * what the case expects (compare.ts). Results as data; report.ts prints them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { validate } from '../admission/handler.js';
import { ParentResolver } from '../cluster/parents.js';
import { DriftguardError, errorMessage } from '../errors.js';
import type { Diagnostic } from '../policy/diagnostics.js';
import { readPolicies } from '../policy/load.js';
import type { PolicySet } from '../policy/set.js';
import { isSecretRequest, sanitizeChange } from '../records/secrets.js';
import { memorySink } from '../records/sink.js';
import { compare, outcomeOf, type ActualOutcome, type Expected } from './compare.js';
import { findSuites } from './discover.js';
import { clusterLookup, prepareCase, readObjectFile, type Prepared } from './prepare.js';
import { parseSuiteText, suiteCase, type ParsedSuite } from './suite.js';
import type { KubeObject } from '../k8s/admission.js';

type CaseStatus = 'passed' | 'failed' | 'error';

export interface CaseResult {
  name: string;
  status: CaseStatus;
  /** Where the case is written in the suite file. */
  line: number;
  column: number;
  /** The review file, or "request" for the short form. */
  source: string;
  expected?: Expected;
  actual?: ActualOutcome;
  /** One line per mismatch: what was expected, what happened. */
  failures: string[];
  error?: string;
  durationMs: number;
}

export interface SuiteResult {
  file: string;
  name: string;
  /** Set when the suite itself cannot run (bad file, bad policies): no case ran. */
  diagnostics: Diagnostic[];
  cases: CaseResult[];
  durationMs: number;
}

export interface TestRun {
  suites: SuiteResult[];
  summary: { suites: number; cases: number; passed: number; failed: number; errors: number; invalidSuites: number; durationMs: number };
}

export interface RunOptions {
  /** Evaluation time when neither the case nor the suite sets `now`. */
  now: Date;
  logger?: Logger;
}

async function runCase(p: Extract<Prepared, { ok: true }>, set: PolicySet, now: Date, logger: Logger): Promise<ActualOutcome> {
  const records = memorySink();
  const outcome = await validate(p.request, {
    policies: () => set,
    parents: new ParentResolver({ lookup: clusterLookup(p.cluster), logger }),
    records,
    clock: () => now,
    logger,
  });
  const r = outcome.response;
  // Reports show the changes: a Secret's values never appear there either.
  const secret = isSecretRequest(p.request);
  const policies = outcome.evaluation.results.map((res) =>
    res.violations === undefined ? res : { ...res, violations: res.violations.map((c) => sanitizeChange(c, secret)) },
  );
  const actual: ActualOutcome = {
    result: outcomeOf(r.allowed, r.warnings ?? []),
    warnings: [...(r.warnings ?? [])],
    policies,
    // Violation records: the change ledger's record of an admitted write is not a policy outcome.
    records: records.records.filter((x) => (x as { type?: string }).type === 'violation').length,
  };
  if (r.status?.message !== undefined) actual.message = r.status.message;
  return actual;
}

function invalid(file: string, diagnostics: Diagnostic[], started: number): SuiteResult {
  return { file, name: path.basename(path.dirname(file)), diagnostics, cases: [], durationMs: performance.now() - started };
}

/** A step that either gives its value or the diagnostics that make the suite invalid. */
type Step<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

/** One error diagnostic at a place in the suite file. */
function problemAt(file: string, at: { line: number; column: number }, path: string | undefined, message: string): Diagnostic[] {
  return [{ file, ...at, severity: 'error', code: 'DG_TEST_INVALID', ...(path === undefined ? {} : { path }), message }];
}

async function readSuite(file: string): Promise<Step<ParsedSuite>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, diagnostics: problemAt(file, { line: 1, column: 1 }, undefined, `cannot read the suite: ${errorMessage(err)}`) };
  }
  const parsed = parseSuiteText(text, file);
  return parsed.ok ? { ok: true, value: parsed.parsed } : parsed;
}

/** The suite's policies, loaded as serve loads them; their errors make the suite invalid. */
async function suitePolicies(file: string, parsed: ParsedSuite, dir: string): Promise<Step<PolicySet>> {
  const { suite } = parsed;
  const policyPaths = suite.policies.map((p) => path.resolve(dir, p));
  try {
    const loaded = await readPolicies(policyPaths);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) return { ok: false, diagnostics: errors };
    if (loaded.set.files.length === 0) throw new DriftguardError('DG_TEST_INVALID', `no policy files in ${suite.policies.join(', ')}`);
    return { ok: true, value: loaded.set };
  } catch (err) {
    return { ok: false, diagnostics: problemAt(file, parsed.locate(['policies']), 'policies', errorMessage(err)) };
  }
}

/** The objects the suite says are in the cluster (Scale parents), read from their files. */
async function clusterObjects(file: string, parsed: ParsedSuite, dir: string): Promise<Step<KubeObject[]>> {
  const cluster: KubeObject[] = [];
  for (const [i, f] of (parsed.suite.cluster ?? []).entries()) {
    try {
      cluster.push(await readObjectFile(dir, f));
    } catch (err) {
      return { ok: false, diagnostics: problemAt(file, parsed.locate(['cluster', i]), `cluster[${i}]`, errorMessage(err)) };
    }
  }
  return { ok: true, value: cluster };
}

/** One prepared case through the handler, compared with what it expects. */
async function runPrepared(
  p: Prepared,
  at: { line: number; column: number },
  set: PolicySet,
  now: Date,
  logger: Logger,
): Promise<CaseResult> {
  const t0 = performance.now();
  const base = { name: p.name, line: at.line, column: at.column, source: p.source };
  if (!p.ok) return { ...base, status: 'error', failures: [], error: p.error, durationMs: performance.now() - t0 };
  try {
    const actual = await runCase(p, set, now, logger);
    const failures = compare(p.expected, actual);
    return {
      ...base,
      status: failures.length === 0 ? 'passed' : 'failed',
      expected: p.expected,
      actual,
      failures,
      durationMs: performance.now() - t0,
    };
  } catch (err) {
    return {
      ...base,
      status: 'error',
      expected: p.expected,
      failures: [],
      error: `the handler threw: ${errorMessage(err)}`,
      durationMs: performance.now() - t0,
    };
  }
}

async function runSuite(file: string, opts: RunOptions): Promise<SuiteResult> {
  const started = performance.now();
  const logger = opts.logger ?? pino({ level: 'silent' });
  const parsed = await readSuite(file);
  if (!parsed.ok) return invalid(file, parsed.diagnostics, started);
  const { suite } = parsed.value;
  const dir = path.dirname(file);
  const set = await suitePolicies(file, parsed.value, dir);
  if (!set.ok) return invalid(file, set.diagnostics, started);
  const cluster = await clusterObjects(file, parsed.value, dir);
  if (!cluster.ok) return invalid(file, cluster.diagnostics, started);

  const cases: CaseResult[] = [];
  for (const [i, c] of suite.cases.entries()) {
    const at = parsed.value.caseAt(i);
    const now = new Date(c.now ?? suite.now ?? opts.now.toISOString());
    for (const p of await prepareCase(suiteCase(c), dir, now, cluster.value)) cases.push(await runPrepared(p, at, set.value, now, logger));
  }
  return { file, name: suite.metadata.name, diagnostics: [], cases, durationMs: performance.now() - started };
}

export async function runSuites(targets: readonly string[], opts: RunOptions): Promise<TestRun> {
  const started = performance.now();
  const files = await findSuites(targets);
  if (files.length === 0) throw new DriftguardError('DG_USAGE', `no driftguard-test.yaml under ${targets.join(', ')}`);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const suites: SuiteResult[] = [];
  for (const f of files) suites.push(await runSuite(f, { ...opts, logger }));
  const all = suites.flatMap((s) => s.cases);
  return {
    suites,
    summary: {
      suites: suites.length,
      cases: all.length,
      passed: all.filter((c) => c.status === 'passed').length,
      failed: all.filter((c) => c.status === 'failed').length,
      errors: all.filter((c) => c.status === 'error').length,
      invalidSuites: suites.filter((s) => s.diagnostics.length > 0).length,
      durationMs: performance.now() - started,
    },
  };
}
