/** What `explain` and `history` share: the object named on the command line and the records read for it. */
import path from 'node:path';
import { buildTimeline, type TimelineEntry, type TimelineStats } from '../ledger/timeline.js';
import { isTargetResource, parseTarget, type ObjectTarget } from '../ledger/target.js';
import { readRecords, type ReadRecord, type ReadStats } from '../records/read.js';
import type { RecordResource } from '../records/schema.js';
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

export async function readLedger(spec: string, sources: readonly string[], flags: LedgerFlags, io: CliIO): Promise<LedgerInput> {
  const target = parseTarget(spec, flags.namespace);
  const now = io.clock();
  const since = flags.since === undefined ? undefined : parseTimeFlag(flags.since, '--since', now);
  const until = flags.until === undefined ? undefined : parseTimeFlag(flags.until, '--until', now);
  // Everything is read (what GitOps set before the window still counts); the window applies later.
  // Only the target's records are kept in memory (record sets can be large), and the nameless
  // entry/exit records of generateName CREATEs, which pair by key with a named final.
  const keep = (r: ReadRecord) => {
    const res = r.resource as RecordResource | undefined;
    if (typeof res !== 'object' || res === null || !isTargetResource(res, target)) return false;
    return res.name === target.name || (res.name === undefined && r.type === 'change');
  };
  const { records, stats: read } = await readRecords(defaultSources(sources, io), { stdin: io.stdin, keep });
  if (read.malformed > 0) {
    write(
      io.stderr,
      `warning: skipped ${read.malformed} malformed line(s)${read.malformedAt.length > 0 ? ` (${read.malformedAt.join(', ')})` : ''}`,
    );
  }
  if (read.unknownSchema > 0) write(io.stderr, `warning: skipped ${read.unknownSchema} record(s) of a schema this version does not know`);
  const { entries, stats } = buildTimeline(records, target);
  const input: LedgerInput = { target, entries, stats, read };
  if (since !== undefined) input.since = since;
  if (until !== undefined) input.until = until;
  return input;
}
