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
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DriftguardError, systemErrorText } from '../errors.js';
import { resolveSources, type SourceRules } from '../sources.js';
import type { ChangeRecord } from '../records/record.js';
import { AuditConverter, type SkipReason } from './convert.js';
import { LineScanner, type ByteSource } from './lines.js';
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
  /** Lines read (blank ones too). */
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
  /**
   * Only lines holding all of these (as JSON strings: the object's name, its namespace) are parsed;
   * `keep` then checks what the event names.
   */
  needles?: readonly string[];
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

/** Bytes of one gunzipped read handed on at a time (zlib's default is 16 KiB). */
const GUNZIP_CHUNK = 256 * 1024;

/** A stream's chunks, copied into the reader's buffer as it asks for them. */
function streamSource(stream: Readable): ByteSource {
  const chunks = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let chunk: Buffer | undefined;
  let at = 0;
  return async (buf, offset, length) => {
    while (chunk === undefined || at === chunk.length) {
      const next = await chunks.next();
      if (next.done === true) return 0;
      chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      at = 0;
    }
    const n = chunk.copy(buf, offset, at, Math.min(chunk.length, at + length));
    at += n;
    return n;
  };
}

/**
 * The file's bytes (gunzipped when it starts with gzip's magic bytes), and what to do when done.
 * A plain file is read straight into the reader's buffer.
 */
async function openInput(file: string, stdin: Readable | undefined): Promise<{ read: ByteSource; close(): Promise<void> }> {
  if (file === '-') {
    if (stdin === undefined) throw new DriftguardError('DG_INPUT', 'no standard input to read audit events from');
    return { read: streamSource(stdin), close: async () => {} };
  }
  const head = Buffer.alloc(2);
  const fh = await open(file, 'r');
  let gzip: boolean;
  try {
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (err) {
    await fh.close();
    throw err;
  }
  if (!gzip) {
    return {
      read: async (buf, offset, length) => (await fh.read(buf, offset, length, null)).bytesRead,
      close: () => fh.close(),
    };
  }
  const raw = fh.createReadStream({ highWaterMark: 1024 * 1024, start: 0 });
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  return {
    read: streamSource(gunzip),
    close: async () => {
      raw.destroy();
      gunzip.destroy();
    },
  };
}

/**
 * What to search lines for, so that a line of the object is never missed: the string as JSON text
 * (quoted), when no JSON writer would escape any of its characters (a Kubernetes name, mostly);
 * else its longest run of such characters, unquoted; else nothing.
 */
function jsonNeedle(s: string): Buffer | undefined {
  const safe = /[A-Za-z0-9 !#$%'()*+,./:;=?@[\]^_`{|}~-]+/g;
  if (s !== '' && (s.match(safe)?.[0] ?? '') === s) return Buffer.from(`"${s}"`);
  const runs = s.match(safe) ?? [];
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest === '' ? undefined : Buffer.from(longest);
}

/** The event's time in microseconds (stageTimestamp is RFC 3339 with microseconds). */
function eventTime(t: string | undefined): number {
  if (t === undefined) return Number.NaN;
  const ms = Date.parse(t);
  const frac = /\.(\d{4,6})/.exec(t);
  const micro = frac === null ? 0 : Number(frac[1]!.padEnd(6, '0').slice(3));
  return ms * 1000 + micro;
}

const TIME_KEY = Buffer.from('"stageTimestamp":"');

/** A line's stageTimestamp, found without parsing the line (the API server writes it after both objects). */
function timeInLine(bytes: Buffer): number {
  const at = bytes.lastIndexOf(TIME_KEY);
  if (at < 0) return Number.NaN;
  const from = at + TIME_KEY.length;
  const end = bytes.indexOf(0x22, from);
  return end < 0 || end - from > 64 ? Number.NaN : eventTime(bytes.toString('latin1', from, end));
}

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
  const needles = (opts.needles ?? []).map(jsonNeedle).filter((n): n is Buffer => n !== undefined);
  const maxLine = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const kept: Kept[] = [];
  let seq = 0;

  for (const file of files) {
    const label = file === '-' ? 'stdin' : file;
    const onLine = (bytes: Buffer, lineNo: number): void => {
      const parsed = parseAuditLine(bytes.toString('utf8'));
      if (parsed.kind === 'blank') return;
      if (parsed.kind === 'problem') {
        problem(`${label}:${lineNo}`, parsed.problem);
        return;
      }
      stats.events++;
      const t = eventTime(parsed.event.stageTimestamp ?? parsed.event.requestReceivedTimestamp);
      cover(t);
      if (opts.keep !== undefined && !opts.keep(parsed.event)) return;
      if (Number.isNaN(t)) {
        problem(`${label}:${lineNo}`, 'an event with no stageTimestamp');
        return;
      }
      kept.push({ event: parsed.event, t, seq: seq++, at: `${label}:${lineNo}` });
    };
    const scanner = new LineScanner(
      { needles, maxLineBytes: maxLine },
      {
        line: onLine,
        oversize: (lineNo) => problem(`${label}:${lineNo}`, `a line over ${Math.round(maxLine / 1024 / 1024)} MiB: skipped`),
        // Lines not parsed still bound the time the files cover.
        sample: (bytes) => cover(timeInLine(bytes)),
      },
    );

    let input: Awaited<ReturnType<typeof openInput>>;
    try {
      input = await openInput(file, opts.stdin);
    } catch (err) {
      if (err instanceof DriftguardError) throw err;
      throw new DriftguardError('DG_INPUT', `cannot read the audit log ${file}: ${systemErrorText(err)}`, { cause: err });
    }
    try {
      await scanner.scan(input.read);
    } catch (err) {
      const text = systemErrorText(err);
      const gzip =
        /unexpected end of file|incorrect header check|invalid|Z_BUF_ERROR/i.test(text) ||
        (err as { code?: string }).code?.startsWith('Z_');
      // The line the stream broke off in is not the writer's: it is not parsed.
      problem(
        `${label}:${scanner.lines + 1}`,
        gzip
          ? `the gzip stream ends early or is damaged (${text}): the ${scanner.lines} whole line(s) before it were read`
          : `reading stopped: ${text}`,
      );
    } finally {
      await input.close();
    }
    stats.lines += scanner.lines;
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
