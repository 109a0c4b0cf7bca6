/**
 * `driftguard history KIND/NAME -n NS [SOURCES...]`: the object's timeline, like `git log -p` for
 * one object: each admitted write with its actor, field manager and field changes, and the denied
 * attempts from the violation records. Newest first (--reverse for oldest first).
 */
import type { Command } from 'commander';
import { fieldSelected } from '../ledger/explain.js';
import { changeLabel } from '../engine/field-list.js';
import { changeField } from '../engine/field-list.js';
import type { LedgerChange, TimelineEntry } from '../ledger/timeline.js';
import { describeQuery, describeResource, fromRecord } from '../k8s/object-ref.js';
import { EXIT, write, type CliIO } from './io.js';
import { fieldPaths, oneOf } from './flags.js';
import { addLedgerSourceOptions, readLedger, type LedgerFlags } from './ledger-input.js';
import { shortTime } from './time.js';

interface HistoryFlags extends LedgerFlags {
  field?: string[];
  reverse?: boolean;
}

function json(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

function changeLine(c: LedgerChange): string {
  // By key where the record has one (v2), so an item reads the same at any index.
  const path = changeLabel(c);
  const tag = c.by === 'webhook' ? '   [mutating webhook]' : '';
  if (c.op === 'add') return `    + ${path}${c.path === '' ? '' : `: ${json(c.new)}`}${tag}`;
  // A whole-object remove (DELETE) lists no value: the record holds only its first 256 characters.
  if (c.op === 'remove') return `    - ${path}${'old' in c && c.path !== '' ? `: ${json(c.old)}` : ''}${tag}`;
  return `    ~ ${path}: ${json(c.old)} -> ${json(c.new)}${tag}`;
}

function renderEntry(e: TimelineEntry): string {
  const lines = [
    `${e.kind === 'write' ? 'write ' : 'DENIED'}  ${shortTime(e.time)}  ${e.operation} ${describeResource(fromRecord(e.resource))}`,
  ];
  lines.push(`Actor:     ${e.actor.username} (${e.actorClass})`);
  lines.push(`Manager:   ${e.fieldManager ?? '<none>'}`);
  for (const p of e.policies) lines.push(`Policy:    ${p.policy} (${p.mode}) ${p.decision}: ${p.reason}`);
  if (e.kind === 'write') lines.push(`Seen at:   ${e.stages.join(', ')}`);
  lines.push('');
  for (const c of e.changes) lines.push(changeLine(c));
  if ((e.changesOmitted ?? 0) > 0) lines.push(`    … ${e.changesOmitted} more change(s) not recorded`);
  return lines.join('\n');
}

function filterFields(entries: readonly TimelineEntry[], fields: readonly string[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  for (const e of entries) {
    // A whole-object change ("" for DELETE) concerns every field.
    const changes = e.changes.filter((c) => c.path === '' || fields.some((f) => fieldSelected(changeField(c), c.path, f)));
    if (changes.length > 0) out.push({ ...e, changes });
  }
  return out;
}

async function historyCommand(spec: string, sources: string[], flags: HistoryFlags, io: CliIO): Promise<number> {
  oneOf('--output', flags.output, ['text', 'json']);
  const input = await readLedger(spec, sources, flags, io);
  const since = input.since?.getTime() ?? -Infinity;
  const until = input.until?.getTime() ?? Infinity;
  let entries = input.entries.filter((e) => {
    const t = Date.parse(e.time);
    return t >= since && t < until;
  });
  if (flags.field !== undefined && flags.field.length > 0) entries = filterFields(entries, fieldPaths(flags.field)!);
  if (flags.reverse !== true) entries.reverse();
  if (flags.output === 'json') {
    write(
      io.stdout,
      JSON.stringify(
        {
          object: input.target,
          entries,
          stats: { ...input.stats, files: input.read.files, records: input.read.records, malformed: input.read.malformed },
        },
        null,
        2,
      ),
    );
    return input.entries.length === 0 ? EXIT.FAILED : EXIT.OK;
  }
  if (input.entries.length === 0) {
    write(
      io.stderr,
      `No recorded writes or denied attempts for ${describeQuery(input.target)} (${input.read.records} record(s) read from ${input.read.files.length} source(s)).${input.notFound()}`,
    );
    return EXIT.FAILED;
  }
  if (entries.length === 0) {
    write(io.stderr, `No entries for ${describeQuery(input.target)} in the window.`);
    return EXIT.OK;
  }
  write(io.stdout, entries.map(renderEntry).join('\n\n'));
  return EXIT.OK;
}

export function registerHistory(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = program
    .command('history')
    .description("an object's change timeline, like git log -p: admitted writes with their field changes, and denied attempts")
    .argument('<kind/name>', 'the object, kubectl style: deploy/web, deployment/web, deployments.apps/web')
    .argument(
      '[sources...]',
      'records files, globs or directories, or - for stdin (default: stdin when piped, else records/driftguard.jsonl)',
    )
    .option('-n, --namespace <ns>', 'namespace of the object (default: default)')
    .option('--since <time>', 'entries since then: a duration (2h, 90m) or an RFC 3339 time')
    .option('--until <time>', 'entries before then')
    .option('--field <pointer...>', 'only entries that change these fields (keyed paths or JSON Pointers)')
    .option('--reverse', 'oldest first')
    .option('-o, --output <format>', 'text or json', 'text');
  addLedgerSourceOptions(cmd).action(async (spec: string, sources: string[], flags: HistoryFlags) => {
    setExit(await historyCommand(spec, sources, flags, io));
  });
}
