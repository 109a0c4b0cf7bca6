/**
 * Table output, read like kubectl: upper-case headers, aligned columns, numbers right-aligned,
 * nothing else. Usernames, names and reasons come from requests, so control characters are shown
 * escaped: a record cannot move the cursor or recolour the reader's terminal.
 */
import { DECISIONS, type AuditEntry } from '../entry.js';
import { fieldList } from '../../engine/field-list.js';
import type { AuditSummary, Ranked } from '../summary.js';

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped for the terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A string safe to print on a terminal: control characters as \uXXXX. */
export function printable(s: string): string {
  return s.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

interface Column {
  header: string;
  right?: boolean;
}

function table(columns: readonly Column[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => printable(String(c))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (columns[i]?.right === true ? v.padStart(widths[i] ?? 0) : i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

function more(n: number, what: string): string {
  return n > 0 ? `\n(${n} more ${what})` : '';
}

function rankedRows(list: readonly Ranked[]): Array<[number, number]> {
  return list.map((r) => [r.count, r.counts.denied]);
}

export function summaryTable(s: AuditSummary, header: string): string {
  const out: string[] = [header];
  if (s.total === 0) {
    out.push('', 'No violations match.');
    return out.join('\n');
  }
  out.push(
    '',
    table(
      [{ header: 'DECISION' }, { header: 'COUNT', right: true }],
      DECISIONS.map((d) => [d, s.counts[d]]),
    ),
  );
  out.push(
    '',
    table(
      [
        { header: s.bucket.toUpperCase() },
        ...DECISIONS.map((d) => ({ header: d.toUpperCase(), right: true })),
        { header: 'TOTAL', right: true },
      ],
      // Quiet days are left out here (the HTML chart shows them as gaps).
      s.timeline.filter((b) => b.total > 0).map((b) => [b.start, ...DECISIONS.map((d) => b.counts[d]), b.total]),
    ),
  );
  const actorRows = rankedRows(s.actors);
  out.push(
    '',
    table(
      [{ header: 'TOP ACTORS' }, { header: 'CLASS' }, { header: 'COUNT', right: true }, { header: 'DENIED', right: true }],
      s.actors.map((a, i) => [a.key, a.actorClass, ...actorRows[i]!]),
    ) + more(s.more.actors, 'actors'),
  );
  const objectRows = rankedRows(s.objects);
  out.push(
    '',
    table(
      [{ header: 'TOP OBJECTS' }, { header: 'OWNER' }, { header: 'COUNT', right: true }, { header: 'DENIED', right: true }],
      s.objects.map((o, i) => [o.key, o.owner === '' ? '-' : o.owner, ...objectRows[i]!]),
    ) + more(s.more.objects, 'objects'),
  );
  out.push(
    '',
    table(
      [{ header: 'TOP FIELDS' }, { header: 'COUNT', right: true }],
      s.fields.map((f) => [f.key, f.count]),
    ) + more(s.more.fields, 'fields'),
  );
  out.push(
    '',
    table(
      [{ header: 'POLICY' }, ...DECISIONS.map((d) => ({ header: d.toUpperCase(), right: true }))],
      s.policies.map((p) => [p.key, ...DECISIONS.map((d) => p.counts[d])]),
    ) + more(s.more.policies, 'policies'),
  );
  if (s.breakGlass.length > 0) {
    out.push(
      '',
      'BREAK-GLASS USE',
      table(
        [{ header: 'TIME' }, { header: 'ACTOR' }, { header: 'POLICY' }, { header: 'OBJECT' }, { header: 'REASON' }],
        s.breakGlass.map((b) => [b.time, b.username, b.policy, b.object, b.reason]),
      ) + more(s.more.breakGlass, 'earlier uses'),
    );
  }
  return out.join('\n');
}

/** At most three fields in a list row; the rest as a count. */
function shortFields(e: AuditEntry, max = 3): string {
  return fieldList(e.fields, { max, omitted: e.changesOmitted, rest: 'plus' });
}

export function listTable(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'No violations match.';
  return table(
    [
      { header: 'TIME' },
      { header: 'DECISION' },
      { header: 'POLICY' },
      { header: 'ACTOR' },
      { header: 'OP' },
      { header: 'OBJECT' },
      { header: 'FIELDS' },
    ],
    entries.map((e) => [e.time, e.decision, e.policy, e.username, e.operation, e.object, shortFields(e)]),
  );
}
