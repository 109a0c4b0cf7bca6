/** `driftguard policy lint`: file:line:column for every problem; exit 1 on errors, 0 otherwise. */
import type { Command } from 'commander';
import { DriftguardError } from '../errors.js';
import { formatDiagnostic } from '../policy/diagnostics.js';
import { lintPolicies } from '../policy/lint.js';
import { policyJsonSchema } from '../policy/schema.js';
import { EXIT, write, type CliIO } from './io.js';

export interface LintOptions {
  output: 'text' | 'json';
  strict?: boolean;
}

export async function lintCommand(targets: string[], opts: LintOptions, io: CliIO): Promise<number> {
  const report = await lintPolicies(targets, io.clock());
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = report.diagnostics.length - errors;
  if (opts.output === 'json') {
    write(io.stdout, JSON.stringify({ ...report, errors, warnings }, null, 2));
  } else {
    for (const d of report.diagnostics) write(io.stdout, formatDiagnostic(d));
    write(io.stdout, `${report.files.length} file(s), ${report.policies} valid polic${report.policies === 1 ? 'y' : 'ies'}, ${errors} error(s), ${warnings} warning(s)`);
  }
  if (errors > 0) return EXIT.FAILED;
  if (opts.strict === true && warnings > 0) return EXIT.FAILED;
  return EXIT.OK;
}

export function registerPolicy(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const policy = program.command('policy').description('write and check policies');
  policy
    .command('lint')
    .description('check policy files: errors and warnings with file:line:column (exit 1 on errors)')
    .argument('[paths...]', 'policy directories or files', ['policies'])
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--strict', 'exit 1 on warnings too')
    .action(async (paths: string[], opts: LintOptions) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new DriftguardError('DG_USAGE', `--output must be text or json, got ${String(opts.output)}`);
      setExit(await lintCommand(paths, opts, io));
    });
  policy
    .command('schema')
    .description('print the DriftPolicy JSON Schema (for editors: schema/driftpolicy.schema.json)')
    .action(() => {
      write(io.stdout, JSON.stringify(policyJsonSchema(), null, 2));
      setExit(EXIT.OK);
    });
}
