/**
 * `driftguard explain KIND/NAME -n NS [SOURCES...]`: per field that changed, the last value, who
 * set it last, what GitOps last set, and DRIFT / WEBHOOK / reverted marks. Records from files,
 * globs, directories or stdin, merged across replicas.
 */
import type { Command } from 'commander';
import { KubeClient } from '../cluster/kube.js';
import { listMutatingWebhooks, matchingWebhooks, type MutatingWebhook } from '../cluster/mutating-webhooks.js';
import { errorMessage, isDriftguardError } from '../errors.js';
import {
  explainTimeline,
  type Explanation,
  type FieldExplanation,
  type FieldValue,
  type FieldWriter,
  type WebhookWriter,
} from '../ledger/explain.js';
import { describeQuery } from '../k8s/object-ref.js';
import { EXIT, write, type CliIO } from './io.js';
import { fieldPaths, oneOf } from './flags.js';
import { addLedgerSourceOptions, readLedger, type LedgerFlags } from './ledger-input.js';
import { cell, table } from './table.js';
import { humanDuration, shortTime } from './time.js';

interface ExplainFlags extends LedgerFlags {
  field?: string[];
  all?: boolean;
  kubeconfig?: string;
}

const UNKNOWN_WEBHOOK = 'mutating webhook (unknown)';

/** `mutating webhook m-injector/inject.example.com`: configuration/webhook, as lastWriter.webhooks holds them. */
function webhookLabel(w: Pick<WebhookWriter, 'webhooks'>): string {
  if (w.webhooks === undefined) return UNKNOWN_WEBHOOK;
  if (w.webhooks.length === 0) return 'mutating webhook (none matches now)';
  return `mutating webhook ${w.webhooks.map((h) => `${h.configuration}/${h.webhook}`).join(' or ')}`;
}

function writerLabel(w: FieldWriter): string {
  return w.kind === 'actor' ? w.username : webhookLabel(w);
}

function managerOf(w: FieldWriter): string | undefined {
  return w.kind === 'actor' ? w.fieldManager : w.requestedBy.fieldManager;
}

function valueLabel(v: FieldValue): string {
  return v.removed ? '(removed)' : cell(v.value);
}

function noteLabel(f: FieldExplanation): string {
  if (f.drift) return 'DRIFT';
  // The request's actor, beside the webhook that wrote the field (lastWriter.requestedBy in JSON).
  if (f.lastWriter.kind === 'webhook') return `WEBHOOK (requested by ${f.lastWriter.requestedBy.username})`;
  if (f.reverted !== undefined) return `reverted by ${f.reverted.by} after ${humanDuration(f.reverted.afterSeconds * 1000)}`;
  return '';
}

function renderExplanation(x: Explanation, opts: { width?: number } = {}): string {
  const rows = x.fields.map((f) => [
    f.path,
    valueLabel(f),
    writerLabel(f.lastWriter),
    f.lastWriter.actorClass,
    managerOf(f.lastWriter) ?? '<none>',
    shortTime(f.lastWriter.time),
    f.gitops === undefined ? '<none>' : valueLabel(f.gitops),
    noteLabel(f),
  ]);
  return table(['FIELD', 'VALUE', 'LAST WRITER', 'CLASS', 'MANAGER', 'WHEN', 'GITOPS VALUE', 'NOTE'], rows, opts);
}

async function webhooksFromCluster(kubeconfig: string, io: CliIO): Promise<MutatingWebhook[] | undefined> {
  try {
    return await listMutatingWebhooks(KubeClient.load(kubeconfig, { timeoutMs: 5_000 }));
  } catch (err) {
    const code = isDriftguardError(err) ? `${err.code}: ` : '';
    write(io.stderr, `warning ${code}${errorMessage(err)}; webhook-set fields are shown as ${UNKNOWN_WEBHOOK}`);
    return undefined;
  }
}

async function explainCommand(spec: string, sources: string[], flags: ExplainFlags, io: CliIO): Promise<number> {
  oneOf('--output', flags.output, ['table', 'json']);
  const input = await readLedger(spec, sources, flags, io);
  const webhooks = flags.kubeconfig === undefined ? undefined : await webhooksFromCluster(flags.kubeconfig, io);
  const explanation = explainTimeline(input.entries, {
    ...(input.since === undefined ? {} : { since: input.since }),
    ...(input.until === undefined ? {} : { until: input.until }),
    ...(flags.field === undefined ? {} : { fields: fieldPaths(flags.field)! }),
    all: flags.all === true,
    ...(webhooks === undefined
      ? {}
      : { webhookCandidates: (w) => matchingWebhooks(webhooks, w).map((h) => ({ configuration: h.configuration, webhook: h.name })) }),
  });
  const label = describeQuery(input.target);
  if (flags.output === 'json') {
    write(
      io.stdout,
      JSON.stringify(
        {
          object: input.target,
          ...(input.since === undefined ? {} : { since: input.since.toISOString() }),
          ...(input.until === undefined ? {} : { until: input.until.toISOString() }),
          ...explanation,
          stats: { ...input.stats, files: input.read.files, records: input.read.records, malformed: input.read.malformed },
        },
        null,
        2,
      ),
    );
    return explanation.writes === 0 ? EXIT.FAILED : EXIT.OK;
  }
  if (explanation.writes === 0) {
    write(
      io.stderr,
      `No recorded writes to ${label} (${input.read.records} record(s) read from ${input.read.files.length} source(s)).${input.notFound()}`,
    );
    return EXIT.FAILED;
  }
  if (explanation.deleted !== undefined) {
    write(
      io.stdout,
      `${label} was deleted by ${explanation.deleted.by} (${explanation.deleted.actorClass}) at ${shortTime(explanation.deleted.time)}.`,
    );
    return EXIT.OK;
  }
  if (explanation.fields.length === 0) {
    const window = input.since === undefined ? '' : ` since ${shortTime(input.since.toISOString())}`;
    write(io.stderr, `No field of ${label} changed${window} other than by GitOps creating it (--all lists those too).`);
    return EXIT.OK;
  }
  // On a terminal the table fits its width; piped, it is whole.
  const columns =
    (io.stdout as { isTTY?: boolean; columns?: number }).isTTY === true ? (io.stdout as { columns?: number }).columns : undefined;
  write(io.stdout, renderExplanation(explanation, columns === undefined ? {} : { width: columns }));
  return EXIT.OK;
}

export function registerExplain(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = program
    .command('explain')
    .description('who changed which field of an object, what GitOps set, and what drifted (from the change records)')
    .argument('<kind/name>', 'the object, kubectl style: deploy/web, deployment/web, deployments.apps/web')
    .argument(
      '[sources...]',
      'records files, globs or directories, or - for stdin (default: stdin when piped, else records/driftguard.jsonl)',
    )
    .option('-n, --namespace <ns>', 'namespace of the object (default: default)')
    .option('--since <time>', 'only fields changed since then: a duration (2h, 90m) or an RFC 3339 time')
    .option('--until <time>', 'the state as it was then: a duration back from now or an RFC 3339 time')
    .option(
      '--field <pointer...>',
      'only these fields and what lies below them: keyed paths or JSON Pointers, e.g. /spec/replicas, /spec/template/spec/containers[name=api]',
    )
    .option('--all', 'also list fields only ever set by GitOps when it created the object')
    .option('--kubeconfig <file>', 'name the mutating webhooks that match a write (configuration/webhook), for fields webhooks set')
    .option('-o, --output <format>', 'table or json', 'table');
  addLedgerSourceOptions(cmd).action(async (spec: string, sources: string[], flags: ExplainFlags) => {
    setExit(await explainCommand(spec, sources, flags, io));
  });
}
