/** What `explain` and `history` share: the object named on the command line and the records read for it. */
import path from 'node:path';
import { DriftguardError } from '../errors.js';
import { buildTimeline, type TimelineEntry, type TimelineStats } from '../ledger/timeline.js';
import { parseTarget, type ObjectTarget } from '../ledger/target.js';
import { readRecords, type ReadStats } from '../records/read.js';
import { write, type CliIO } from './io.js';
import { parseTimeFlag } from './time.js';

export const DEFAULT_RECORDS = 'records/driftguard.jsonl';

export interface LedgerFlags {
  namespace?: string;
  since?: string;
  until?: string;
  output: string;
}

export interface LedgerInput {
  target: ObjectTarget;
  since?: Date;
  until?: Date;
  entries: TimelineEntry[];
  stats: TimelineStats;
  read: ReadStats;
}

/** No sources: standard input when something is piped in (kubectl logs | driftguard ...), else the default records file. */
export function defaultSources(sources: readonly string[], io: CliIO): string[] {
  if (sources.length > 0) return [...sources];
  if ((io.stdin as { isTTY?: boolean }).isTTY === true) return [path.resolve(io.cwd, DEFAULT_RECORDS)];
  return ['-'];
}

export function checkOutput(value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw new DriftguardError('DG_USAGE', `--output must be ${allowed.join(' or ')}, got ${value}`);
}

export async function readLedger(spec: string, sources: readonly string[], flags: LedgerFlags, io: CliIO): Promise<LedgerInput> {
  const target = parseTarget(spec, flags.namespace);
  const now = io.clock();
  const since = flags.since === undefined ? undefined : parseTimeFlag(flags.since, '--since', now);
  const until = flags.until === undefined ? undefined : parseTimeFlag(flags.until, '--until', now);
  // Everything is read (what GitOps set before the window still counts); the window applies later.
  const { records, stats: read } = await readRecords(defaultSources(sources, io), { stdin: io.stdin });
  if (read.malformed > 0) {
    write(io.stderr, `warning: skipped ${read.malformed} malformed line(s)${read.malformedAt.length > 0 ? ` (${read.malformedAt.join(', ')})` : ''}`);
  }
  if (read.unknownSchema > 0) write(io.stderr, `warning: skipped ${read.unknownSchema} record(s) of a schema this version does not know`);
  const { entries, stats } = buildTimeline(records, target);
  const input: LedgerInput = { target, entries, stats, read };
  if (since !== undefined) input.since = since;
  if (until !== undefined) input.until = until;
  return input;
}
