/** What `explain` and `history` share: the object named on the command line and the records read for it. */
import path from 'node:path';
import type { Command } from 'commander';
import { DriftguardError } from '../errors.js';
import { buildTimeline, type TimelineEntry, type TimelineStats } from '../ledger/timeline.js';
import { recordResourceSchema, type ObjectQuery } from '../k8s/object-ref.js';
import { isTargetResource, parseTargetKnown } from '../ledger/target.js';
import { readRecords, type ReadRecord, type ReadStats } from '../records/read.js';
import type { Disagreement } from '../ledger/sources.js';
import type { Readable } from 'node:stream';
import { pipedStdin, write, type CliIO } from './io.js';
import { jsonPointers } from './flags.js';
import { parseTimeFlag } from './time.js';
import { addStoreOptions, clusterName, storeUrl, withStore, type StoreFlags } from './store-flags.js';
import { queryLedger } from '../store/query.js';
import { readAuditSources, reportAudit } from './audit-log-input.js';
import type { AuditReadStats } from '../auditlog/read.js';

const DEFAULT_RECORDS = 'records/driftguard.jsonl';

export interface LedgerFlags extends StoreFlags {
  namespace?: string;
  /** API server audit log files (--audit-log), read beside the records (docs/audit-log.md). */
  auditLog?: string[];
  /** Users whose audit-log writes count as GitOps, beyond the presets and the records' own GitOps actors. */
  gitopsUser?: string[];
  field?: string[];
  since?: string;
  until?: string;
  output: string;
}

export interface LedgerInput {
  target: ObjectQuery;
  since?: Date;
  until?: Date;
  entries: TimelineEntry[];
  stats: TimelineStats;
  read: ReadStats;
  /** What the audit log sources held, when --audit-log was given. */
  audit?: AuditReadStats;
  /** When nothing was found: a hint naming the namespaces that do have records (or a usage error for an unknown kind). */
  notFound(): string;
}

/**
 * No sources: standard input when something is piped in (kubectl logs | driftguard ...), else the
 * default records file — also from cron, CI or `ssh host cmd`, where stdin is empty or /dev/null.
 */
async function ledgerSources(sources: readonly string[], io: CliIO): Promise<{ sources: string[]; stdin: Readable }> {
  if (sources.length > 0) return { sources: [...sources], stdin: io.stdin };
  const piped = await pipedStdin(io);
  if (piped !== undefined) return { sources: ['-'], stdin: piped };
  return { sources: [path.resolve(io.cwd, DEFAULT_RECORDS)], stdin: io.stdin };
}

/** The sources explain and history read besides record files: the audit log, one cluster's records, the store. */
export function addLedgerSourceOptions(cmd: Command): Command {
  cmd
    .option(
      '--audit-log <file...>',
      'API server audit log files (JSON lines of audit.k8s.io/v1 Event; rotated and gzipped ones too; - for stdin), read beside the records',
    )
    .option(
      '--gitops-user <name...>',
      "users whose audit-log writes count as GitOps (beyond the argocd and flux presets and the records' own)",
    )
    .option('--cluster <name>', 'only records of this cluster (serve --cluster)');
  return addStoreOptions(cmd, 'read from');
}

/** Why nothing was found for the target, when the records say more: an unknown kind, another namespace. */
function notFoundHint(target: ObjectQuery, unknownKind: string | undefined, namespaceGiven: boolean, seen: Seen): string {
  if (unknownKind !== undefined && !seen.resource) {
    throw new DriftguardError(
      'DG_USAGE',
      `${unknownKind} is not a known kind, and no record is of it: use a built-in kind (deploy, sts, ds, cm, secret, svc) or a custom resource with its group (rollouts.argoproj.io/NAME)`,
    );
  }
  if (seen.namespaces.size === 0) return '';
  const list = [...seen.namespaces].sort();
  const shown = list.slice(0, 10).join(', ') + (list.length > 10 ? `, … (${list.length} in all)` : '');
  return ` ${target.name} has records in namespace${list.length === 1 ? '' : 's'} ${shown}${namespaceGiven ? '' : ' (no -n given: default was used)'}: try -n ${list[0]!}.`;
}

interface Seen {
  /** A record of the target's resource was read (so the kind is one the records know). */
  resource: boolean;
  /** Namespaces other than the target's with records of the same resource and name. */
  namespaces: Set<string>;
}

export async function readLedger(spec: string, sources: readonly string[], flags: LedgerFlags, io: CliIO): Promise<LedgerInput> {
  const { target, known, kind } = parseTargetKnown(spec, flags.namespace);
  const now = io.clock();
  if (flags.field !== undefined) jsonPointers(flags.field, '--field');
  const since = flags.since === undefined ? undefined : parseTimeFlag(flags.since, '--since', now);
  const until = flags.until === undefined ? undefined : parseTimeFlag(flags.until, '--until', now);
  // Everything is read (what GitOps set before the window still counts); the window applies later.
  // Only the target's records are kept in memory (record sets can be large), and the nameless
  // entry/exit records of generateName CREATEs, which pair by key with a named final.
  const seen: Seen = { resource: false, namespaces: new Set() };
  const withAudit = flags.auditLog !== undefined && flags.auditLog.length > 0;
  const cluster = clusterName(flags.cluster);
  const url = storeUrl(flags);
  let records: ReadRecord[];
  let read: ReadStats;
  // GitOps actors the webhooks' records name: their audit-log writes are GitOps too.
  const gitopsSeen = new Set<string>();
  if (url !== undefined) {
    if (sources.length > 0) throw new DriftguardError('DG_USAGE', 'read records from files or from --store, not both');
    const got = await withStore(url, 'read from', (store) =>
      queryLedger(store.pool, { target, ...(cluster === undefined ? {} : { cluster }) }, store.display),
    );
    records = got.records;
    read = got.stats;
    seen.resource = got.resourceSeen;
    for (const ns of got.otherNamespaces) seen.namespaces.add(ns);
    for (const r of records) learnGitops(r, gitopsSeen);
  } else {
    const keep = (r: ReadRecord) => {
      if (cluster !== undefined && r.cluster !== cluster) return false;
      const checked = recordResourceSchema.safeParse(r.resource);
      if (!checked.success) return false;
      const res = checked.data;
      if (res.resource.toLowerCase() === target.resource) {
        seen.resource = true;
        if (res.name === target.name && (res.namespace ?? '') !== (target.namespace ?? '')) seen.namespaces.add(res.namespace ?? '');
      }
      if (!isTargetResource(res, target)) return false;
      return res.name === target.name || (res.name === undefined && r.type === 'change');
    };
    const keepAndLearn = (r: ReadRecord): boolean => {
      learnGitops(r, gitopsSeen);
      return keep(r);
    };
    // With --audit-log and no records named, the audit log alone is read (not the default records file).
    const input$ = withAudit && sources.length === 0 ? { sources: [], stdin: io.stdin } : await ledgerSources(sources, io);
    ({ records, stats: read } =
      input$.sources.length === 0
        ? { records: [] as ReadRecord[], stats: emptyReadStats() }
        : await readRecords(input$.sources, { stdin: input$.stdin, keep: keepAndLearn }));
  }
  const audit = withAudit
    ? await readAuditSources(flags.auditLog!, target, [...gitopsSeen, ...(flags.gitopsUser ?? [])], io, records)
    : undefined;
  if (audit !== undefined) reportAudit(audit, io);
  if (read.malformed > 0) {
    write(
      io.stderr,
      `warning: skipped ${read.malformed} malformed line(s)${read.malformedAt.length > 0 ? ` (${read.malformedAt.join(', ')})` : ''}`,
    );
  }
  if (read.unfinished > 0) write(io.stderr, `note: skipped the last line of ${read.unfinished} file(s) still being written`);
  if (read.unknownSchema > 0) write(io.stderr, `warning: skipped ${read.unknownSchema} record(s) of a schema this version does not know`);
  const coverage = audit?.from !== undefined && audit.to !== undefined ? { auditCoverage: { from: audit.from, to: audit.to } } : {};
  const { entries, stats } = buildTimeline(records, target, coverage);
  if (stats.audit !== undefined) reportDisagreements(stats.audit.disagreements, io);
  const input: LedgerInput = {
    target,
    entries,
    stats,
    read,
    notFound: () => notFoundHint(target, known ? undefined : kind, flags.namespace !== undefined, seen),
  };
  if (audit !== undefined) input.audit = audit;
  if (since !== undefined) input.since = since;
  if (until !== undefined) input.until = until;
  return input;
}

/** A GitOps actor a webhook's record names (its audit-log writes are GitOps too). */
function learnGitops(r: ReadRecord, into: Set<string>): void {
  const actor = r.actor as { username?: unknown } | undefined;
  if (r.actorClass === 'gitops' && typeof actor?.username === 'string') into.add(actor.username);
}

function emptyReadStats(): ReadStats {
  return { files: [], lines: 0, records: 0, malformed: 0, unfinished: 0, foreign: 0, unknownSchema: 0, malformedAt: [] };
}

const DISAGREEMENTS_LISTED = 10;

/** Where the audit log and the webhooks' records disagree, on stderr (docs/audit-log.md, Two sources). */
function reportDisagreements(list: readonly Disagreement[], io: CliIO): void {
  for (const kind of ['unobserved', 'not-persisted'] as const) {
    const of = list.filter((d) => d.kind === kind);
    if (of.length === 0) continue;
    const head =
      kind === 'unobserved'
        ? `note: ${of.length} persisted write(s) that no driftguard webhook saw (the audit log has them; driftguard was down or failed open):`
        : `note: ${of.length} admitted tr${of.length === 1 ? 'y' : 'ies'} that the audit log shows were never persisted (left out):`;
    const lines = of.slice(0, DISAGREEMENTS_LISTED).map((d) => `  ${d.time} ${d.operation} by ${d.username} (${d.uid})`);
    if (of.length > DISAGREEMENTS_LISTED) lines.push(`  … ${of.length - DISAGREEMENTS_LISTED} more`);
    write(io.stderr, [head, ...lines].join('\n'));
  }
}
