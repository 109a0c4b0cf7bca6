/**
 * From records as read to the text of a report: entries, filters, summary, one of four formats.
 * Pure (the clock is passed in); the CLI reads the sources and writes the result.
 */
import type { ReadRecord, ReadStats } from '../records/read.js';
import { toEntries, type AuditEntry, type EntryStats } from './entry.js';
import { compileFilter, describeFilter, type AuditFilter } from './filter.js';
import { listCsv, summaryCsv } from './render/csv.js';
import { htmlReport } from './render/html.js';
import { listTable, printable, summaryTable } from './render/text.js';
import { summarize, type AuditSummary } from './summary.js';

export const OUTPUTS = ['table', 'json', 'csv', 'html'] as const;
export type AuditOutput = (typeof OUTPUTS)[number];
export const VIEWS = ['summary', 'list'] as const;
export type AuditView = (typeof VIEWS)[number];

export interface ReportOptions {
  view: AuditView;
  output: AuditOutput;
  filter: AuditFilter;
  top: number;
  /** Newest entries kept in a list (all when undefined); the HTML list defaults to 5,000. */
  limit?: number;
  since?: Date;
  until?: Date;
  now: Date;
}

export interface Report {
  text: string;
  /** Violations that matched the filters. */
  matched: number;
  read: ReadStats;
  entries: EntryStats;
  summary?: AuditSummary;
}

const HTML_LIST_LIMIT = 5_000;

/** What was read, in one line: files, records, and every line that was not a usable record. */
export function readNote(read: ReadStats, entries: EntryStats): string {
  const parts = [
    `read ${read.lines} lines from ${read.files.length} ${read.files.length === 1 ? 'source' : 'sources'}: ${entries.violations} violations`,
  ];
  if (entries.changes > 0) parts.push(`${entries.changes} change records (not violations, skipped)`);
  if (entries.otherTypes > 0) parts.push(`${entries.otherTypes} records of other types skipped`);
  if (entries.invalid > 0) parts.push(`${entries.invalid} incomplete violation records skipped`);
  if (entries.superseded > 0) parts.push(`${entries.superseded} violation records of retried tries the API server did not persist skipped`);
  if (read.malformed > 0)
    parts.push(
      `${read.malformed} malformed lines skipped${read.malformedAt.length > 0 ? ` (${read.malformedAt.join(', ')}${read.malformed > read.malformedAt.length ? ', …' : ''})` : ''}`,
    );
  if (read.unfinished > 0) parts.push(`${read.unfinished} last ${read.unfinished === 1 ? 'line' : 'lines'} still being written skipped`);
  if (read.foreign > 0) parts.push(`${read.foreign} non-record lines skipped`);
  if (read.unknownSchema > 0) parts.push(`${read.unknownSchema} records of an unknown schema skipped`);
  return parts.join('; ');
}

function newestFirst(entries: readonly AuditEntry[], limit: number | undefined): AuditEntry[] {
  const sorted = entries.slice().reverse();
  return limit === undefined ? sorted : sorted.slice(0, limit);
}

export function buildReport(records: readonly ReadRecord[], read: ReadStats, opts: ReportOptions): Report {
  const { entries: all, stats } = toEntries(records);
  const keep = compileFilter(opts.filter);
  const entries = all.filter(keep);
  const filters = describeFilter(opts.filter);
  const base = { matched: entries.length, read, entries: stats };
  const needSummary = opts.view === 'summary' || opts.output === 'html';
  // With --since the chart runs to --until or now, so the quiet days at the end show.
  const window: { from?: Date; to?: Date } = {};
  if (opts.since !== undefined) window.from = opts.since;
  if (opts.since !== undefined || opts.until !== undefined) window.to = opts.until ?? opts.now;
  const summary = needSummary ? summarize(entries, { top: opts.top, ...window, fine: opts.output === 'html' }) : undefined;

  if (opts.output === 'html') {
    const list = newestFirst(entries, opts.limit ?? HTML_LIST_LIMIT);
    const text = htmlReport({
      summary: summary!,
      entries: list,
      matched: entries.length,
      generated: opts.now,
      filters,
      readNote: readNote(read, stats),
      ...window,
    });
    return { ...base, text, summary: summary! };
  }
  if (opts.view === 'summary') {
    const s = summary!;
    if (opts.output === 'json')
      return { ...base, summary: s, text: JSON.stringify({ filters: opts.filter, read: { ...read, ...stats }, summary: s }, null, 2) };
    if (opts.output === 'csv') return { ...base, summary: s, text: summaryCsv(s) };
    const head = `${s.total} violations${s.first === undefined ? '' : ` from ${s.first} to ${s.last}`}${filters === '' ? '' : ` (${filters})`}`;
    return { ...base, summary: s, text: summaryTable(s, printable(head)) };
  }
  const list = newestFirst(entries, opts.limit);
  if (opts.output === 'json')
    return {
      ...base,
      text: JSON.stringify(
        list.map((e) => e.record),
        null,
        2,
      ),
    };
  if (opts.output === 'csv') return { ...base, text: listCsv(list) };
  return { ...base, text: listTable(list) };
}
