/**
 * Read records back: from files, globs, directories (every *.jsonl* file in them), rotated
 * siblings of a named file (NAME.1, NAME.2, ...), and stdin ("-"), so that
 * `kubectl logs -l app.kubernetes.io/name=driftguard --prefix=false | driftguard explain ...` works. Records from
 * several replicas are merged and ordered by time. Lines that are not records are counted, never fatal.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { DriftguardError, systemErrorText } from '../errors.js';
import { resolveSources, type SourceRules } from '../sources.js';
import { READABLE_SCHEMAS } from './record.js';

export interface ReadStats {
  files: string[];
  lines: number;
  records: number;
  /** Lines that are not JSON objects (cut lines, garbage). */
  malformed: number;
  /**
   * A file's last line with no newline after it that is not yet a whole record: a live file read
   * while the server appends to it (the writer's own lines always end in a newline). Skipped, and
   * not called malformed.
   */
  unfinished: number;
  /** JSON lines that are not driftguard records (operational logs interleaved on stdout). */
  foreign: number;
  /** driftguard records of a schema this version does not know. */
  unknownSchema: number;
  /** The first few malformed lines, as "file:line", for the report. */
  malformedAt: string[];
}

/** A record as read: the writer's fields plus where it came from. */
export type ReadRecord = Record<string, unknown> & { schema: string; type: string; time: string };

export interface ReadOptions {
  stdin?: Readable;
  /** Keep only records at or after / before these times. */
  since?: Date;
  until?: Date;
  /** Keep only records this accepts (decided line by line, so a large set is never held whole). */
  keep?: (record: ReadRecord) => boolean;
}

const RECORD_FILE = /\.jsonl(\.\d+)?$|\.log(\.\d+)?$/;
const ROTATED_SUFFIX = /^\.\d+$/;

/** How records sources are read: *.jsonl and *.log files (and their rotations NAME.N) of a directory, rotations oldest first. */
const RECORD_SOURCES: SourceRules = {
  inDirectory: (names) => names.filter((n) => RECORD_FILE.test(n)).sort(byRotation),
  rotatedSiblings: (base, names) => names.filter((n) => n.startsWith(base) && ROTATED_SUFFIX.test(n.slice(base.length))).sort(byRotation),
  noMatch: (source) => `no files match ${source}`,
  missing: (source) => `cannot read records from ${source}: no such file or directory`,
};

/** The files a list of records sources names, in a stable order, each once. */
export function resolveRecordSources(sources: readonly string[]): Promise<string[]> {
  return resolveSources(sources, RECORD_SOURCES);
}

/**
 * File names in write order: per base name, the oldest rotation (highest NAME.N) first and the live
 * file last, so records with equal times keep the order they were written in.
 */
function byRotation(a: string, b: string): number {
  const split = (n: string): [string, number] => {
    const m = /^(.*)\.(\d+)$/.exec(n);
    return m === null ? [n, 0] : [m[1]!, Number(m[2])];
  };
  const [ba, na] = split(a);
  const [bb, nb] = split(b);
  if (ba !== bb) return ba < bb ? -1 : 1;
  return nb - na;
}

/** Whether the last chunk the stream gave so far ended in a newline (true before any chunk). */
function newlineEnded(input: Readable): () => boolean {
  let last = true;
  input.on('data', (chunk: string | Buffer) => {
    if (chunk.length > 0) last = typeof chunk === 'string' ? chunk.endsWith('\n') : chunk[chunk.length - 1] === 0x0a;
  });
  return () => last;
}

/** Parse one line; tolerates a log prefix before the JSON (kubectl logs --prefix). */
export function parseRecordLine(line: string): { kind: 'record'; record: ReadRecord } | { kind: 'malformed' | 'foreign' | 'unknown' | 'blank' } {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'blank' };
  let text = trimmed;
  if (!text.startsWith('{')) {
    const at = text.indexOf('{"schema":');
    if (at < 0) return text.includes('{') ? { kind: 'foreign' } : { kind: 'malformed' };
    text = text.slice(at);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'malformed' };
  const v = value as Record<string, unknown>;
  if (typeof v.schema !== 'string' || !v.schema.startsWith('driftguard.io/')) return { kind: 'foreign' };
  if (!READABLE_SCHEMAS.has(v.schema) || typeof v.time !== 'string' || typeof v.type !== 'string') return { kind: 'unknown' };
  return { kind: 'record', record: v as ReadRecord };
}

export async function readRecords(sources: readonly string[], opts: ReadOptions = {}): Promise<{ records: ReadRecord[]; stats: ReadStats }> {
  const files = await resolveRecordSources(sources.length === 0 ? ['-'] : sources);
  const stats: ReadStats = { files, lines: 0, records: 0, malformed: 0, unfinished: 0, foreign: 0, unknownSchema: 0, malformedAt: [] };
  const records: Array<{ r: ReadRecord; t: number; seq: number }> = [];
  const since = opts.since?.getTime() ?? -Infinity;
  const until = opts.until?.getTime() ?? Infinity;
  let seq = 0;
  for (const file of files) {
    let input: Readable;
    if (file === '-') {
      if (opts.stdin === undefined) throw new DriftguardError('DG_INPUT', 'no standard input to read records from');
      input = opts.stdin;
    } else {
      input = createReadStream(file, { encoding: 'utf8' });
    }
    const ended = newlineEnded(input);
    const rl = createInterface({ input, crlfDelay: Infinity });
    let lineNo = 0;
    // A malformed line is counted when the next line arrives, or at the end once it is known
    // whether a newline followed it (no newline: the writer is still at it).
    let cut = 0;
    const countCut = (): void => {
      if (cut === 0) return;
      stats.malformed++;
      if (stats.malformedAt.length < 5) stats.malformedAt.push(`${file === '-' ? 'stdin' : file}:${cut}`);
      cut = 0;
    };
    try {
      for await (const line of rl) {
        lineNo++;
        stats.lines++;
        countCut();
        const parsed = parseRecordLine(line);
        switch (parsed.kind) {
          case 'blank':
            stats.lines--;
            break;
          case 'malformed':
            cut = lineNo;
            break;
          case 'foreign':
            stats.foreign++;
            break;
          case 'unknown':
            stats.unknownSchema++;
            break;
          case 'record': {
            const t = Date.parse(parsed.record.time);
            if (Number.isNaN(t)) {
              stats.malformed++;
              break;
            }
            stats.records++;
            if (t >= since && t < until && (opts.keep === undefined || opts.keep(parsed.record))) records.push({ r: parsed.record, t, seq: seq++ });
            break;
          }
        }
      }
      if (cut !== 0 && !ended()) {
        stats.unfinished++;
        stats.lines--;
        cut = 0;
      }
      countCut();
    } catch (err) {
      throw new DriftguardError('DG_INPUT', `cannot read ${file}: ${systemErrorText(err)}`, { cause: err });
    }
  }
  records.sort((a, b) => a.t - b.t || a.seq - b.seq);
  return { records: records.map((x) => x.r), stats };
}
