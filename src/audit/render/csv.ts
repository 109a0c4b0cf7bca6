/**
 * CSV (RFC 4180): comma-separated, CRLF line ends, fields quoted when they hold a comma, quote or
 * line break. Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a
 * leading apostrophe: usernames and names come from requests, and a CSV is opened in Excel.
 */
import { DECISIONS, type AuditEntry } from '../entry.js';
import type { AuditSummary, Ranked } from '../summary.js';

const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  let s = String(value);
  if (typeof value === 'string' && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(rows: readonly (readonly (string | number | boolean | undefined)[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const LIST_COLUMNS = [
  'time',
  'decision',
  'allowed',
  'mode',
  'policy',
  'username',
  'groups',
  'actorClass',
  'fieldManager',
  'operation',
  'group',
  'resource',
  'subResource',
  'kind',
  'namespace',
  'name',
  'fields',
  'changesOmitted',
  'owner',
  'breakGlassReason',
  'breakGlassExpires',
  'reason',
  'uid',
] as const;

/** One row per violation; groups joined with `;`, fields with a space. */
export function listCsv(entries: readonly AuditEntry[]): string {
  return csv([
    LIST_COLUMNS,
    ...entries.map((e) => [
      e.time,
      e.decision,
      e.allowed,
      e.mode,
      e.policy,
      e.username,
      e.groups.join(';'),
      e.actorClass,
      e.fieldManager,
      e.operation,
      e.group,
      e.resource,
      e.subResource,
      e.kind,
      e.namespace,
      e.name,
      e.fields.join(' '),
      e.changesOmitted,
      e.ownerText,
      e.breakGlass?.reason,
      e.breakGlass?.expires,
      e.reason,
      e.uid,
    ]),
  ]);
}

/**
 * The summary in long form, one count row per (section, key): sections decision, timeline (key =
 * bucket start), actor, object, field, policy. Break-glass uses with their reasons are rows of the
 * list: `--view list --decision break-glass`.
 */
export function summaryCsv(s: AuditSummary): string {
  const rows: Array<Array<string | number>> = [['section', 'key', ...DECISIONS, 'total']];
  rows.push(['decision', 'all', ...DECISIONS.map((d) => s.counts[d]), s.total]);
  for (const b of s.timeline) rows.push([`timeline-${s.bucket}`, b.start, ...DECISIONS.map((d) => b.counts[d]), b.total]);
  const ranked = (section: string, list: readonly Ranked[]): void => {
    for (const r of list) rows.push([section, r.key, ...DECISIONS.map((d) => r.counts[d]), r.count]);
  };
  ranked('actor', s.actors);
  ranked('object', s.objects);
  ranked('field', s.fields);
  ranked('policy', s.policies);
  return csv(rows);
}
