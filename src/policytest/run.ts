/**
 * `driftguard policy test`: find suites, build each case's review, run it through the same handler
 * as the server (validate() with records kept in memory), and compare with what the case expects.
 * Results as data; report.ts prints them.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { glob, isDynamicPattern } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { validate } from '../admission/handler.js';
import { parseReview } from '../admission/review.js';
import type { AdmissionRequest, KubeObject } from '../admission/types.js';
import { ParentResolver, type MarksLookup } from '../cluster/parents.js';
import type { PolicyResult, PolicyStatus } from '../engine/evaluate.js';
import { marksOf } from '../engine/owner.js';
import { DriftguardError, errorMessage, systemErrorText } from '../errors.js';
import { guessPlural } from '../policy/compile.js';
import type { Diagnostic } from '../policy/diagnostics.js';
import { readPolicies } from '../policy/load.js';
import type { PolicySet } from '../policy/set.js';
import { isSecretRequest, sanitizeChange } from '../records/redact.js';
import { memorySink } from '../records/sink.js';
import { buildShortForm } from './request.js';
import { parseSuiteText, SUITE_FILE_NAMES, type Expectation, type TestCase } from './suite.js';

export type Outcome = 'allowed' | 'denied' | 'warned';
export type CaseStatus = 'passed' | 'failed' | 'error';

/** What the handler answered, in the terms a case expects. */
export interface ActualOutcome {
  result: Outcome;
  message?: string;
  warnings: string[];
  policies: PolicyResult[];
  records: number;
}

/** An expectation as written, or taken from a captured review's response. */
export interface Expected extends Partial<Expectation> {
  result: Outcome;
  /** From a capture: the policies its answer named as violated (auditAnnotations.policies). */
  violated?: string[];
  /** Where the expectation came from. */
  from: 'suite' | 'capture';
}

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

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);

/** The suite files under each target: a suite file itself, or every driftguard-test.yaml below a directory. */
export async function findSuites(targets: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const target of targets) {
    let info;
    try {
      info = await stat(target);
    } catch (err) {
      throw new DriftguardError('DG_USAGE', `cannot read ${target}: ${systemErrorText(err)}`);
    }
    if (info.isFile()) {
      found.add(path.resolve(target));
      continue;
    }
    const files = await glob(
      SUITE_FILE_NAMES.map((n) => `**/${n}`),
      {
        cwd: target,
        absolute: true,
        ignore: [...SKIP_DIRS].map((d) => `**/${d}/**`),
        followSymbolicLinks: false,
      },
    );
    for (const f of files) found.add(path.resolve(f));
  }
  return [...found].sort();
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readText(file: string, what: string, shown = file): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new DriftguardError('DG_TEST_INVALID', `cannot read ${what} ${shown}: ${systemErrorText(err)}`);
  }
}

/** An object file (JSON or YAML) named relative to the suite directory. */
async function readObjectFile(dir: string, name: string): Promise<KubeObject> {
  const file = path.resolve(dir, name);
  const text = await readText(file, 'object file', name);
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new DriftguardError(
      'DG_TEST_INVALID',
      `${name} is not ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${errorMessage(err).split('\n')[0]}`,
    );
  }
  if (!isRecord(value) || typeof value.kind !== 'string')
    throw new DriftguardError('DG_TEST_INVALID', `${name} is not a Kubernetes object (no kind)`);
  return value as KubeObject;
}

function objectKey(group: string, resource: string, namespace: string | undefined, name: string): string {
  return `${group}/${resource}/${namespace ?? ''}/${name}`;
}

function keyOf(obj: KubeObject): string | undefined {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const av = obj.apiVersion ?? 'v1';
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return objectKey(group, guessPlural(obj.kind ?? ''), obj.metadata?.namespace, name);
}

/** A "cluster" of known objects: what a metadata GET of a Scale's parent would find. */
function clusterLookup(objects: readonly KubeObject[]): MarksLookup {
  const byKey = new Map<string, KubeObject>();
  for (const o of objects) {
    const k = keyOf(o);
    if (k !== undefined) byKey.set(k, o);
  }
  return async (ref) => {
    const found = byKey.get(objectKey(ref.group, ref.resource, ref.namespace, ref.name));
    return found === undefined ? undefined : marksOf(found);
  };
}

function outcomeOf(allowed: boolean, warnings: readonly string[]): Outcome {
  if (!allowed) return 'denied';
  return warnings.length > 0 ? 'warned' : 'allowed';
}

/** A captured review carries the answer it got: replay expects the same result and the same violated policies. */
export function capturedExpectation(body: unknown): Expected | undefined {
  const r = isRecord(body) ? body.response : undefined;
  if (!isRecord(r) || typeof r.allowed !== 'boolean') return undefined;
  const warnings = Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === 'string') : [];
  const expected: Expected = { result: outcomeOf(r.allowed, warnings), from: 'capture' };
  const annotations = isRecord(r.auditAnnotations) ? r.auditAnnotations : {};
  expected.violated = typeof annotations.policies === 'string' && annotations.policies !== '' ? annotations.policies.split(',').sort() : [];
  return expected;
}

const CONSISTENT: Record<Outcome, ReadonlySet<PolicyStatus>> = {
  denied: new Set(['fail', 'error']),
  warned: new Set(['warn', 'breakglass', 'error']),
  allowed: new Set(['pass', 'audit']),
};

const VERB: Record<Outcome, string> = { denied: 'deny', warned: 'warn', allowed: 'allow' };

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Every way `actual` differs from `expected`; empty when the case passes. */
export function compare(expected: Expected, actual: ActualOutcome): string[] {
  const out: string[] = [];
  if (expected.result !== actual.result) out.push(`result: expected ${expected.result}, got ${actual.result}`);
  const byName = new Map(actual.policies.map((p) => [p.policy, p]));
  if (expected.policy !== undefined) {
    const r = byName.get(expected.policy);
    if (r === undefined) out.push(`policy ${expected.policy}: not among the loaded policies (${[...byName.keys()].join(', ') || 'none'})`);
    else if (!CONSISTENT[expected.result].has(r.status))
      out.push(`policy ${expected.policy}: expected it to ${VERB[expected.result]}, its result was ${r.status} (${r.reason})`);
  }
  for (const [name, status] of Object.entries(expected.policies ?? {})) {
    const r = byName.get(name);
    if (r === undefined) out.push(`policies.${name}: not among the loaded policies`);
    else if (r.status !== status) out.push(`policies.${name}: expected ${status}, got ${r.status} (${r.reason})`);
  }
  for (const text of list(expected.messageContains)) {
    if (actual.message === undefined)
      out.push(`messageContains: expected a denial message containing ${JSON.stringify(text)}, got no message`);
    else if (!actual.message.includes(text)) out.push(`messageContains: ${JSON.stringify(text)} not in the message`);
  }
  for (const text of list(expected.warningContains)) {
    if (!actual.warnings.some((w) => w.includes(text)))
      out.push(`warningContains: no warning contains ${JSON.stringify(text)} (${actual.warnings.length} warning(s))`);
  }
  if (expected.records !== undefined && expected.records !== actual.records)
    out.push(`records: expected ${expected.records}, got ${actual.records}`);
  if (expected.violated !== undefined) {
    const got = actual.policies
      .filter((p) => p.status !== 'skip' && p.status !== 'pass')
      .map((p) => p.policy)
      .sort();
    if (got.join(',') !== expected.violated.join(','))
      out.push(`violated policies: expected [${expected.violated.join(', ')}], got [${got.join(', ')}]`);
  }
  return out;
}

interface Prepared {
  name: string;
  source: string;
  request?: AdmissionRequest;
  cluster: KubeObject[];
  expected?: Expected;
  error?: string;
}

/** One suite case may stand for several files (a review glob): one prepared case each. */
async function prepareCase(c: TestCase, dir: string, now: Date, cluster: readonly KubeObject[]): Promise<Prepared[]> {
  if (c.review !== undefined) {
    const files = isDynamicPattern(c.review) ? (await glob(c.review, { cwd: dir, absolute: true })).sort() : [path.resolve(dir, c.review)];
    if (files.length === 0) return [{ name: c.name ?? c.review, source: c.review, cluster: [], error: `no file matches ${c.review}` }];
    const many = files.length > 1 || isDynamicPattern(c.review);
    return Promise.all(
      files.map(async (file): Promise<Prepared> => {
        const rel = path.relative(dir, file);
        const name = c.name === undefined ? rel : many ? `${c.name}: ${rel}` : c.name;
        try {
          const text = await readText(file, 'review', rel);
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (err) {
            throw new DriftguardError('DG_TEST_INVALID', `${rel} is not JSON: ${errorMessage(err)}`);
          }
          const parsed = parseReview(body);
          if (!parsed.ok) throw new DriftguardError('DG_TEST_INVALID', `${rel} is not an AdmissionReview: ${parsed.message}`);
          const expected: Expected | undefined = c.expect !== undefined ? { ...c.expect, from: 'suite' } : capturedExpectation(body);
          if (expected === undefined)
            throw new DriftguardError('DG_TEST_INVALID', `${rel} has no response to replay; give the case an \`expect\``);
          return { name, source: rel, request: parsed.request, cluster: [...cluster], expected };
        } catch (err) {
          return { name, source: rel, cluster: [], error: errorMessage(err) };
        }
      }),
    );
  }
  const req = c.request!;
  const name = c.name!;
  try {
    const objects = new Map<string, KubeObject>();
    for (const f of [req.object, req.oldObject]) if (f !== undefined) objects.set(f, await readObjectFile(dir, f));
    const built = buildShortForm(req, { readObject: (f) => structuredClone(objects.get(f)!), now });
    return [
      {
        name,
        source: 'request',
        request: built.review.request,
        cluster: built.parent === undefined ? [...cluster] : [...cluster, built.parent],
        expected: { ...c.expect!, from: 'suite' },
      },
    ];
  } catch (err) {
    return [{ name, source: 'request', cluster: [], error: errorMessage(err) }];
  }
}

async function runCase(p: Prepared, set: PolicySet, now: Date, logger: Logger): Promise<ActualOutcome> {
  const records = memorySink();
  const outcome = await validate(p.request!, {
    policies: () => set,
    parents: new ParentResolver({ lookup: clusterLookup(p.cluster), logger }),
    records,
    clock: () => now,
    logger,
  });
  const r = outcome.response;
  // Reports show the changes: a Secret's values never appear there either.
  const secret = isSecretRequest(p.request!);
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

export async function runSuite(file: string, opts: RunOptions): Promise<SuiteResult> {
  const started = performance.now();
  const logger = opts.logger ?? pino({ level: 'silent' });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return invalid(
      file,
      [{ file, line: 1, column: 1, severity: 'error', code: 'DG_TEST_INVALID', message: `cannot read the suite: ${errorMessage(err)}` }],
      started,
    );
  }
  const parsed = parseSuiteText(text, file);
  if (!parsed.ok) return invalid(file, parsed.diagnostics, started);
  const { suite } = parsed.parsed;
  const dir = path.dirname(file);

  const policyPaths = suite.policies.map((p) => path.resolve(dir, p));
  let set: PolicySet;
  try {
    const loaded = await readPolicies(policyPaths);
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) return invalid(file, errors, started);
    if (loaded.set.files.length === 0) throw new DriftguardError('DG_TEST_INVALID', `no policy files in ${suite.policies.join(', ')}`);
    set = loaded.set;
  } catch (err) {
    return invalid(
      file,
      [
        {
          file,
          ...parsed.parsed.locate(['policies']),
          severity: 'error',
          code: 'DG_TEST_INVALID',
          path: 'policies',
          message: errorMessage(err),
        },
      ],
      started,
    );
  }

  const cluster: KubeObject[] = [];
  for (const [i, f] of (suite.cluster ?? []).entries()) {
    try {
      cluster.push(await readObjectFile(dir, f));
    } catch (err) {
      return invalid(
        file,
        [
          {
            file,
            ...parsed.parsed.locate(['cluster', i]),
            severity: 'error',
            code: 'DG_TEST_INVALID',
            path: `cluster[${i}]`,
            message: errorMessage(err),
          },
        ],
        started,
      );
    }
  }

  const cases: CaseResult[] = [];
  for (const [i, c] of suite.cases.entries()) {
    const at = parsed.parsed.caseAt(i);
    const now = new Date(c.now ?? suite.now ?? opts.now.toISOString());
    for (const p of await prepareCase(c, dir, now, cluster)) {
      const t0 = performance.now();
      const base = { name: p.name, line: at.line, column: at.column, source: p.source };
      if (p.error !== undefined || p.request === undefined || p.expected === undefined) {
        cases.push({ ...base, status: 'error', failures: [], error: p.error ?? 'nothing to run', durationMs: performance.now() - t0 });
        continue;
      }
      try {
        const actual = await runCase(p, set, now, logger);
        const failures = compare(p.expected, actual);
        cases.push({
          ...base,
          status: failures.length === 0 ? 'passed' : 'failed',
          expected: p.expected,
          actual,
          failures,
          durationMs: performance.now() - t0,
        });
      } catch (err) {
        cases.push({
          ...base,
          status: 'error',
          expected: p.expected,
          failures: [],
          error: `the handler threw: ${errorMessage(err)}`,
          durationMs: performance.now() - t0,
        });
      }
    }
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
