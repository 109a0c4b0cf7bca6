/**
 * `driftguard audit [SOURCES...]`: who keeps changing what by hand, which objects drift, whether it
 * is getting better. Reads records with the shared reader (files, globs, directories, rotated
 * siblings, stdin), filters, and prints a summary or a list as a table, JSON, CSV or one HTML file.
 * Lines that are not records are counted and reported on stderr, never fatal.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AuditFilter } from '../audit/filter.js';
import { DECISIONS } from '../audit/entry.js';
import { buildReport, OUTPUTS, readNote, VIEWS, type AuditOutput, type AuditView } from '../audit/report.js';
import { DriftguardError, systemErrorText } from '../errors.js';
import { readRecords, type ReadRecord, type ReadStats } from '../records/read.js';
import type { ViolationDecision } from '../records/record.js';
import { EXIT, pipedStdin, write, type CliIO } from './io.js';
import { fieldPaths, oneOf, wholeNumber } from './flags.js';
import { parseTimeFlag } from './time.js';
import { addStoreOptions, clusterName, storeUrl, withStore, type StoreFlags } from './store-flags.js';
import { queryAudit } from '../store/query.js';

interface AuditFlags extends StoreFlags {
  since?: string;
  until?: string;
  user: string[];
  group: string[];
  namespace: string[];
  kind: string[];
  name: string[];
  policy: string[];
  decision: string[];
  field: string[];
  view: string;
  output: string;
  top: string;
  limit?: string;
  out?: string;
}

// No default value for the repeatable flags: commander would print "(default: [])" in --help.
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const REPEATABLE = ['user', 'group', 'namespace', 'kind', 'name', 'policy', 'decision', 'field'] as const;

const count = (value: string, flag: string): number => wholeNumber(value, flag, 1, 1_000_000);

function time(value: string | undefined, flag: string, now: Date): Date | undefined {
  return value === undefined ? undefined : parseTimeFlag(value, flag, now);
}

function auditFilter(
  flags: Pick<AuditFlags, 'user' | 'group' | 'namespace' | 'kind' | 'name' | 'policy' | 'decision' | 'field'>,
): AuditFilter {
  const fields = fieldPaths(flags.field) ?? [];
  return {
    users: flags.user,
    groups: flags.group,
    namespaces: flags.namespace,
    kinds: flags.kind,
    names: flags.name,
    policies: flags.policy,
    decisions: flags.decision.map((d) => oneOf<ViolationDecision>('--decision', d, DECISIONS)),
    fields,
  };
}

async function auditCommand(sources: string[], flags: AuditFlags, io: CliIO): Promise<number> {
  const now = io.clock();
  const view = oneOf<AuditView>('--view', flags.view, VIEWS);
  const output = oneOf<AuditOutput>('--output', flags.output, OUTPUTS);
  const since = time(flags.since, '--since', now);
  const until = time(flags.until, '--until', now);
  if (since !== undefined && until !== undefined && since >= until) throw new DriftguardError('DG_USAGE', '--since must be before --until');
  const filter = auditFilter(flags);
  const cluster = clusterName(flags.cluster);
  const url = storeUrl(flags);
  let records: ReadRecord[];
  let stats: ReadStats;
  if (url !== undefined) {
    if (sources.length > 0) throw new DriftguardError('DG_USAGE', 'read records from files or from --store, not both');
    // The filters SQL can say go into the query; buildReport applies every filter again, exactly.
    ({ records, stats } = await withStore(url, 'read from', (store) =>
      queryAudit(
        store.pool,
        {
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(cluster === undefined ? {} : { cluster }),
          users: filter.users ?? [],
          namespaces: filter.namespaces ?? [],
          names: filter.names ?? [],
          policies: filter.policies ?? [],
          decisions: filter.decisions ?? [],
          fields: filter.fields ?? [],
        },
        store.display,
      ),
    ));
  } else {
    // No source named: what is piped in; nothing piped in (a terminal, cron, CI, </dev/null) is the same mistake.
    const piped = sources.length === 0 ? await pipedStdin(io) : io.stdin;
    if (piped === undefined) {
      throw new DriftguardError(
        'DG_USAGE',
        'name the records to read (files, directories, globs) or pipe them in: kubectl logs -l app.kubernetes.io/name=driftguard | driftguard audit',
      );
    }
    ({ records, stats } = await readRecords(sources.length === 0 ? ['-'] : sources, {
      stdin: piped,
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(cluster === undefined ? {} : { keep: (r: ReadRecord) => r.cluster === cluster }),
    }));
  }
  const report = buildReport(records, stats, {
    view,
    output,
    filter,
    top: count(flags.top, '--top'),
    ...(flags.limit === undefined ? {} : { limit: count(flags.limit, '--limit') }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
    now,
  });
  if (flags.out !== undefined && flags.out !== '-') {
    await writeFile(flags.out, report.text).catch((err: Error) => {
      throw new DriftguardError('DG_INPUT', `cannot write ${flags.out}: ${systemErrorText(err)}`, { cause: err });
    });
  } else {
    io.stdout.write(report.text.endsWith('\n') ? report.text : `${report.text}\n`);
  }
  write(
    io.stderr,
    readNote(report.read, report.entries) +
      (flags.out !== undefined && flags.out !== '-' ? `; ${report.matched} matched; wrote ${flags.out}` : ''),
  );
  return EXIT.OK;
}

export function registerAudit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = program
    .command('audit')
    .description('review violation records: counts by decision and day, top actors, objects and fields, break-glass use, or the list')
    .argument('[sources...]', 'record files, directories, globs, or - for stdin (the default when piped)')
    .option('--since <time>', 'records at or after: RFC 3339 time, date, or duration before now (24h, 7d)')
    .option('--until <time>', 'records before: RFC 3339 time, date, or duration before now')
    .option('--user <name>', 'actor username (`*` globs; repeat for several)', collect)
    .option('--group <name>', 'a group of the actor (`*` globs; repeatable)', collect)
    .option('-n, --namespace <ns>', 'namespace (`*` globs; repeatable)', collect)
    .option('--kind <kind>', 'kind or resource: Deployment, deployments (repeatable)', collect)
    .option('--name <name>', 'object name (`*` globs; repeatable)', collect)
    .option('--policy <name>', 'policy name (`*` globs; repeatable)', collect)
    .option('--decision <decision>', `${DECISIONS.join(', ')} (repeatable)`, collect)
    .option(
      '--field <path>',
      'a changed field at or below this path, e.g. /spec/replicas or /spec/template/spec/containers[name=api] (repeatable)',
      collect,
    )
    .option('--view <view>', `${VIEWS.join(' or ')}`, 'summary')
    .option('-o, --output <format>', `${OUTPUTS.join(', ')}`, 'table')
    .option('--top <n>', 'length of the top lists', '10')
    .option('--limit <n>', 'newest violations in a list (HTML: 5000 unless set)')
    .option('--out <file>', 'write the report to this file instead of stdout')
    .option('--cluster <name>', 'only records of this cluster (serve --cluster)');
  addStoreOptions(cmd, 'read from').action(async (sources: string[], given: Partial<AuditFlags>) => {
    const flags = { ...given } as AuditFlags;
    for (const k of REPEATABLE) flags[k] = given[k] ?? [];
    setExit(await auditCommand(sources, flags, io));
  });
}
