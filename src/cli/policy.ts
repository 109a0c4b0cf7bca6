/**
 * `driftguard policy lint|test|schema`: the policy author's tools. Exit codes (docs/cli.md):
 * 0 clean / every case passed; 1 lint errors (or warnings with --strict) / a case failed;
 * 2 usage errors, unreadable inputs, a suite or case that cannot run.
 * Lint, the test runner and the schemas are loaded when their command runs (`serve` starts without them).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { DriftguardError, systemErrorText } from '../errors.js';
import type { RegisteredWebhook } from '../policy/coverage.js';
import { DRIFTGUARD_WEBHOOKS, findValidatingWebhook, VALIDATING_NAME } from '../install/webhooks.js';
import { formatDiagnostic, type Diagnostic } from '../policy/diagnostics.js';
import { EXIT, write, type CliIO } from './io.js';
import { oneOf } from './flags.js';

interface LintOptions {
  output: 'text' | 'json' | 'github';
  strict?: boolean;
  webhooks?: string;
}

/** The validating webhook driftguard registers, from a YAML file (`driftguard manifests` output, `kubectl get -o yaml`). */
async function readRegisteredWebhook(file: string, cwd: string): Promise<RegisteredWebhook> {
  const text = await readFile(path.resolve(cwd, file), 'utf8').catch((err: Error) => {
    throw new DriftguardError('DG_INPUT', `cannot read --webhooks ${file}: ${err.message}`);
  });
  const docs = parseAllDocuments(text);
  const objects: unknown[] = [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new DriftguardError('DG_INPUT', `--webhooks ${file}: not YAML: ${d.errors[0]!.message}`);
    const v = d.toJS() as { kind?: unknown; items?: unknown } | null;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v.items)) objects.push(...(v.items as unknown[]));
    else objects.push(v);
  }
  const webhook = findValidatingWebhook(objects);
  if (webhook === undefined)
    throw new DriftguardError(
      'DG_INPUT',
      `--webhooks ${file} holds no ValidatingWebhookConfiguration ${VALIDATING_NAME} with a webhook ${DRIFTGUARD_WEBHOOKS[0].webhook}`,
    );
  return webhook;
}

/** GitHub Actions workflow commands: each finding becomes an annotation on the file and line. */
function githubAnnotation(d: Diagnostic): string {
  const esc = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const prop = (s: string) => esc(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
  const text = formatDiagnostic(d).replace(/^[^ ]+: /, '');
  return `::${d.severity === 'error' ? 'error' : 'warning'} file=${prop(d.file)},line=${d.line},col=${d.column},title=${prop(d.code)}::${esc(text)}`;
}

async function lintCommand(targets: string[], opts: LintOptions, io: CliIO): Promise<number> {
  const webhooks =
    opts.webhooks === undefined ? undefined : { file: opts.webhooks, webhook: await readRegisteredWebhook(opts.webhooks, io.cwd) };
  const { lintPolicies } = await import('../policy/lint.js');
  const report = await lintPolicies(targets, io.clock(), webhooks);
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = report.diagnostics.length - errors;
  if (opts.output === 'json') {
    write(io.stdout, JSON.stringify({ ...report, errors, warnings }, null, 2));
  } else {
    for (const d of report.diagnostics) write(io.stdout, opts.output === 'github' ? githubAnnotation(d) : formatDiagnostic(d));
    write(
      io.stdout,
      `${report.files.length} file(s), ${report.policies} valid polic${report.policies === 1 ? 'y' : 'ies'}, ${errors} error(s), ${warnings} warning(s)`,
    );
  }
  if (errors > 0) return EXIT.FAILED;
  if (opts.strict === true && warnings > 0) return EXIT.FAILED;
  return EXIT.OK;
}

interface TestOptions {
  output: 'table' | 'json' | 'junit';
  explain?: boolean;
  junit?: string;
  now?: string;
}

async function testCommand(targets: string[], opts: TestOptions, io: CliIO): Promise<number> {
  const now = opts.now === undefined ? io.clock() : new Date(opts.now);
  if (Number.isNaN(now.getTime())) throw new DriftguardError('DG_USAGE', `--now must be an RFC 3339 time, got ${opts.now}`);
  const [{ runSuites }, { formatJunit, formatTable, toJson }] = await Promise.all([
    import('../policytest/run.js'),
    import('../policytest/report.js'),
  ]);
  const run = await runSuites(
    targets.map((t) => path.resolve(io.cwd, t)),
    { now },
  );
  if (opts.output === 'json') write(io.stdout, JSON.stringify(toJson(run, io.cwd), null, 2));
  else if (opts.output === 'junit') io.stdout.write(formatJunit(run, io.cwd));
  else write(io.stdout, formatTable(run, { explain: opts.explain === true, cwd: io.cwd }));
  if (opts.junit !== undefined) {
    const file = path.resolve(io.cwd, opts.junit);
    await writeFile(file, formatJunit(run, io.cwd)).catch((err: Error) => {
      throw new DriftguardError('DG_USAGE', `cannot write --junit ${file}: ${systemErrorText(err)}`);
    });
  }
  const t = run.summary;
  if (t.invalidSuites > 0 || t.errors > 0) return EXIT.USAGE;
  return t.failed > 0 ? EXIT.FAILED : EXIT.OK;
}

export function registerPolicy(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const policy = program.command('policy').description('write and check policies');
  policy
    .command('lint')
    .description('check policy files: errors and warnings with file:line:column, the value and a fix (exit 1 on errors)')
    .argument('[paths...]', 'policy directories or files', ['policies'])
    .option('-o, --output <format>', 'text, json or github (workflow annotations)', 'text')
    .option('--strict', 'exit 1 on warnings too')
    .option('--webhooks <file>', 'also check that this webhook registration (YAML) sends everything the policies cover (DGL013)')
    .action(async (paths: string[], opts: LintOptions) => {
      oneOf('--output', opts.output, ['text', 'json', 'github'] as const);
      setExit(await lintCommand(paths, opts, io));
    });
  policy
    .command('test')
    .description('run policy test suites (driftguard-test.yaml) through the webhook handler (exit 1 when a case fails)')
    .argument('[paths...]', 'suite files, or directories searched for driftguard-test.yaml', ['policies'])
    .option('-o, --output <format>', 'table, json or junit', 'table')
    .option('--explain', 'show why each policy applied or was skipped, for every case')
    .option('--junit <file>', 'also write a JUnit XML report to this file')
    .option('--now <time>', 'evaluate as of this time when a suite sets none (RFC 3339)')
    .action(async (paths: string[], opts: TestOptions) => {
      oneOf('--output', opts.output, ['table', 'json', 'junit'] as const);
      setExit(await testCommand(paths, opts, io));
    });
  policy
    .command('schema')
    .description('print the DriftPolicy JSON Schema (schema/driftpolicy.schema.json), or with --suite the test suite schema')
    .option('--suite', 'the driftguard-test.yaml schema (schema/driftguard-test.schema.json)')
    .action(async (opts: { suite?: boolean }) => {
      const schema =
        opts.suite === true
          ? (await import('../policytest/suite.js')).suiteJsonSchema()
          : (await import('../policy/schema.js')).policyJsonSchema();
      write(io.stdout, JSON.stringify(schema, null, 2));
      setExit(EXIT.OK);
    });
}
