/**
 * `driftguard evaluate REVIEW.json --policies DIR`: the response a review would get, and per policy
 * why it applied or not. Runs the same handler as the server, with records kept in memory.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import pino from 'pino';
import { validate } from '../admission/handler.js';
import { parseReview } from '../admission/review.js';
import { review } from '../admission/response.js';
import { ParentResolver } from '../cluster/parents.js';
import { changeLabel } from '../engine/field-list.js';
import { DriftguardError, systemErrorText } from '../errors.js';
import { loadPolicies } from '../policy/load.js';
import { memorySink } from '../records/sink.js';
import { EXIT, readAll, write, type CliIO } from './io.js';
import { oneOf } from './flags.js';

interface EvaluateOptions {
  policies: string[];
  now?: string;
  output: 'text' | 'json';
}

async function evaluateCommand(file: string, opts: EvaluateOptions, io: CliIO): Promise<number> {
  const text =
    file === '-'
      ? await readAll(io.stdin)
      : await readFile(file, 'utf8').catch((err: Error) => {
          throw new DriftguardError('DG_INPUT', `cannot read ${file}: ${systemErrorText(err)}`);
        });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DriftguardError('DG_INPUT', `${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = parseReview(json);
  if (!parsed.ok) throw new DriftguardError('DG_INPUT', `${file}: ${parsed.message}`);
  const now = opts.now === undefined ? io.clock() : new Date(opts.now);
  if (Number.isNaN(now.getTime())) throw new DriftguardError('DG_USAGE', `--now must be an RFC 3339 time, got ${opts.now}`);
  const set = await loadPolicies(opts.policies);
  const records = memorySink();
  const outcome = await validate(parsed.request, {
    policies: () => set,
    parents: new ParentResolver(),
    records,
    clock: () => now,
    logger: pino({ level: 'silent' }),
  });
  const answer = review(parsed.apiVersion, outcome.response);
  if (opts.output === 'json') {
    write(io.stdout, JSON.stringify({ review: answer, policies: outcome.evaluation.results, records: records.records }, null, 2));
  } else {
    write(io.stdout, JSON.stringify(answer, null, 2));
    write(io.stdout, '');
    const width = Math.max(6, ...outcome.evaluation.results.map((r) => r.policy.length));
    write(io.stdout, `${'POLICY'.padEnd(width)}  ${'RESULT'.padEnd(10)}  WHY`);
    for (const r of outcome.evaluation.results) {
      write(io.stdout, `${r.policy.padEnd(width)}  ${r.status.padEnd(10)}  ${r.reason}`);
      for (const c of (r.violations ?? []).slice(0, 10))
        write(io.stdout, `${' '.repeat(width)}  ${''.padEnd(10)}  ${c.op} ${changeLabel(c)}`);
    }
    if (outcome.evaluation.results.length === 0) write(io.stdout, '(no policies loaded)');
  }
  return outcome.response.allowed ? EXIT.OK : EXIT.FAILED;
}

export function registerEvaluate(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('evaluate')
    .description('print the response a review would get, and why each policy applied or not (exit 0 allowed, 1 denied)')
    .argument('<review>', 'AdmissionReview JSON file, or - for stdin')
    .option('-p, --policies <path...>', 'policy directories or files', ['policies'])
    .option('--now <time>', 'evaluate as of this time (break-glass expiry), RFC 3339')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (file: string, opts: EvaluateOptions) => {
      oneOf('--output', opts.output, ['text', 'json']);
      setExit(await evaluateCommand(file, opts, io));
    });
}
