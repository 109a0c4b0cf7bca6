/**
 * Reading the API server's audit log files: a file, its rotated siblings (the API server's own
 * backups `NAME-<time>.EXT`, gzipped with --audit-log-compress, and logrotate's `NAME.1`,
 * `NAME.2.gz`), globs, directories, and stdin ("-", for a managed cluster's export piped in). Gzip
 * is told by its magic bytes, not by the name. Lines are split here, on bytes, so that a line over
 * the limit is skipped without being held, and lines that cannot concern the object asked about
 * (its name does not occur in them) are never parsed: 1 M events of other objects cost a byte
 * search each. Every bad line is reported with file:line and the rest is read.
 *
 * The events kept are sorted by time before they are turned into records (records from several
 * API servers, or from files given in any order, come out as one timeline): the converter's diffs
 * need each object's events in the order they were persisted.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DriftguardError, systemErrorText } from '../errors.js';
import { resolveSources, type SourceRules } from '../sources.js';
import type { ChangeRecord } from '../records/record.js';
import { AuditConverter, type SkipReason } from './convert.js';
import { parseAuditLine, type AuditEvent } from './event.js';

/** A line longer than this is skipped (and reported): the API server's own default cap on a request body is 3 MiB; an event carries two objects. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Problems reported by file:line; more are counted. */
const MAX_PROBLEMS_LISTED = 20;

interface AuditProblem {
  /** file:line (stdin for "-"). */
  at: string;
  problem: string;
}

export interface AuditReadStats {
  files: string[];
  lines: number;
  /** Audit events parsed (lines naming the object asked about). */
  events: number;
  /** Change records made. */
  changes: number;
  skipped: Partial<Record<SkipReason, number>>;
  problems: number;
  problemsAt: AuditProblem[];
  /** The time span the files cover (first and last event of every file), in ms; undefined with no event. */
  from?: number;
  to?: number;
}

export interface AuditReadOptions {
  stdin?: Readable;
  converter: AuditConverter;
  /** Only lines holding these bytes are parsed (the object's name). */
  needle?: string;
  /** Only events this accepts are turned into records. */
  keep?: (event: AuditEvent) => boolean;
  maxLineBytes?: number;
}

const AUDIT_FILE = /\.(log|jsonl?)(\.\d+)?(\.gz)?$/;

/** NAME.EXT -> its backups NAME-<timestamp>.EXT[.gz] (the API server's) and NAME.EXT.N[.gz] (logrotate's), oldest first. */
function rotatedSiblings(base: string, names: readonly string[]): string[] {
  const ext = path.extname(base);
  const stem = ext === '' ? base : base.slice(0, -ext.length);
  const own = names.filter((n) => n !== base && n.startsWith(`${stem}-`) && (n.endsWith(ext) || n.endsWith(`${ext}.gz`)) && ext !== '');
  // Timestamps in the API server's backup names sort as text.
  own.sort();
  const numbered = names
    .map((n) => ({ n, m: new RegExp(`^${escapeRegExp(base)}\\.(\\d+)(\\.gz)?$`).exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1]) - Number(a.m[1]))
    .map((x) => x.n);
  return [...numbered, ...own];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How audit log sources are read: *.log, *.json and *.jsonl files (gzipped or not) of a directory, and a file's backups. */
const AUDIT_SOURCES: SourceRules = {
  inDirectory: (names) => names.filter((n) => AUDIT_FILE.test(n)).sort(),
  rotatedSiblings,
  noMatch: (source) => `no files match --audit-log ${source}`,
  missing: (source) => `cannot read the audit log ${source}: no such file or directory`,
};

/** The file's bytes, gunzipped when it starts with gzip's magic bytes. */
async function openInput(file: string, stdin: Readable | undefined): Promise<Readable> {
  if (file === '-') {
    if (stdin === undefined) throw new DriftguardError('DG_INPUT', 'no standard input to read audit events from');
    return stdin;
  }
  const head = Buffer.alloc(2);
  const fh = await open(file, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const raw = createReadStream(file, { highWaterMark: 1024 * 1024 });
  if (head[0] !== 0x1f || head[1] !== 0x8b) return raw;
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return raw.pipe(gunzip);
}

/** The event's time in microseconds (stageTimestamp is RFC 3339 with microseconds). */
function eventTime(t: string | undefined): number {
  if (t === undefined) return Number.NaN;
  const ms = Date.parse(t);
  const frac = /\.(\d{4,6})/.exec(t);
  const micro = frac === null ? 0 : Number(frac[1]!.padEnd(6, '0').slice(3));
  return ms * 1000 + micro;
}

const TIME_IN_LINE = /"stageTimestamp":"([^"]+)"/;

interface Kept {
  event: AuditEvent;
  t: number;
  seq: number;
  at: string;
}

/**
 * Read audit log sources: every event the needle and `keep` let through, turned into change records
 * in time order and handed to `onRecord`. Problems are reported, never thrown (a file that cannot
 * be opened at all is DG_INPUT).
 */
export async function readAuditLogs(
  sources: readonly string[],
  opts: AuditReadOptions,
  onRecord: (record: ChangeRecord) => void,
): Promise<AuditReadStats> {
  const files = await resolveSources(sources, AUDIT_SOURCES);
  const stats: AuditReadStats = { files, lines: 0, events: 0, changes: 0, skipped: {}, problems: 0, problemsAt: [] };
  const problem = (at: string, text: string): void => {
    stats.problems++;
    if (stats.problemsAt.length < MAX_PROBLEMS_LISTED) stats.problemsAt.push({ at, problem: text });
  };
  const cover = (t: number): void => {
    if (Number.isNaN(t)) return;
    const ms = t / 1000;
    if (stats.from === undefined || ms < stats.from) stats.from = ms;
    if (stats.to === undefined || ms > stats.to) stats.to = ms;
  };
  const needle = opts.needle === undefined ? undefined : Buffer.from(opts.needle);
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const kept: Kept[] = [];
  let seq = 0;

  for (const file of files) {
    const label = file === '-' ? 'stdin' : file;
    let lineNo = 0;
    let firstSeen = false;
    let lastSkipped: Buffer | undefined;
    const onLine = (bytes: Buffer): void => {
      lineNo++;
      stats.lines++;
      if (needle !== undefined && !bytes.includes(needle)) {
        // Not parsed; its time still bounds what the files cover.
        if (!firstSeen) {
          firstSeen = true;
          cover(eventTime(TIME_IN_LINE.exec(bytes.toString('utf8'))?.[1]));
        }
        lastSkipped = bytes;
        return;
      }
      lastSkipped = undefined;
      const parsed = parseAuditLine(bytes.toString('utf8'));
      if (parsed.kind === 'blank') {
        stats.lines--;
        return;
      }
      if (parsed.kind === 'problem') {
        problem(`${label}:${lineNo}`, parsed.problem);
        return;
      }
      stats.events++;
      const t = eventTime(parsed.event.stageTimestamp ?? parsed.event.requestReceivedTimestamp);
      firstSeen = true;
      cover(t);
      if (opts.keep !== undefined && !opts.keep(parsed.event)) return;
      if (Number.isNaN(t)) {
        problem(`${label}:${lineNo}`, 'an event with no stageTimestamp');
        return;
      }
      kept.push({ event: parsed.event, t, seq: seq++, at: `${label}:${lineNo}` });
    };

    let input: Readable;
    try {
      input = await openInput(file, opts.stdin);
    } catch (err) {
      if (err instanceof DriftguardError) throw err;
      throw new DriftguardError('DG_INPUT', `cannot read the audit log ${file}: ${systemErrorText(err)}`, { cause: err });
    }
    const parts: Buffer[] = [];
    let partLength = 0;
    let oversize = false;
    try {
      for await (const chunk of input as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(0x0a, start);
          const end = nl < 0 ? buf.length : nl;
          if (!oversize) {
            if (partLength + (end - start) > maxLine) {
              oversize = true;
              parts.length = 0;
              partLength = 0;
            } else if (end > start) {
              parts.push(buf.subarray(start, end));
              partLength += end - start;
            }
          }
          if (nl < 0) break;
          if (oversize) {
            lineNo++;
            stats.lines++;
            problem(`${label}:${lineNo}`, `a line over ${Math.round(maxLine / 1024 / 1024)} MiB: skipped`);
            oversize = false;
          } else {
            onLine(parts.length === 1 ? parts[0]! : Buffer.concat(parts, partLength));
          }
          parts.length = 0;
          partLength = 0;
          start = nl + 1;
        }
        // The parts of an unfinished line refer into the chunks they came from, which no stream reuses.
      }
    } catch (err) {
      const text = systemErrorText(err);
      const gzip =
        /unexpected end of file|incorrect header check|invalid|Z_BUF_ERROR/i.test(text) ||
        (err as { code?: string }).code?.startsWith('Z_');
      // The line the stream broke off in is not the writer's: it is not parsed.
      problem(
        `${label}:${lineNo + 1}`,
        gzip
          ? `the gzip stream ends early or is damaged (${text}): the ${lineNo} whole line(s) before it were read`
          : `reading stopped: ${text}`,
      );
      parts.length = 0;
      partLength = 0;
      oversize = false;
    }
    if (oversize) {
      lineNo++;
      stats.lines++;
      problem(`${label}:${lineNo}`, `a line over ${Math.round(maxLine / 1024 / 1024)} MiB: skipped`);
    } else if (parts.length > 0) onLine(Buffer.concat(parts, partLength));
    if (lastSkipped !== undefined) {
      const m = TIME_IN_LINE.exec(lastSkipped.toString('utf8'));
      cover(eventTime(m?.[1]));
    }
  }

  kept.sort((a, b) => a.t - b.t || a.seq - b.seq);
  for (const k of kept) {
    const out = opts.converter.convert(k.event);
    if (out.kind === 'change') {
      stats.changes++;
      onRecord(out.record);
    } else if (out.kind === 'skip') stats.skipped[out.reason] = (stats.skipped[out.reason] ?? 0) + 1;
    else problem(k.at, out.problem);
  }
  return stats;
}
