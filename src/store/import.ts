/**
 * `driftguard store import FILES...`: record lines from files (the same sources the readers take:
 * files, globs, directories, rotated siblings, a spool file) into the store, in batches, streamed
 * (a file is never held whole). Idempotent: a record's id is derived from its line (store/row.ts),
 * so importing a file twice, or a file whose records serve already shipped, adds nothing.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { DriftguardError, systemErrorText } from '../errors.js';
import { parseRecordLine, resolveRecordSources } from '../records/read.js';
import { toRow, type StoreRow } from './row.js';
import { insertRows, Partitions } from './write.js';

export interface ImportStats {
  files: string[];
  lines: number;
  records: number;
  /** Records not in the store before. */
  inserted: number;
  /** Lines that are not records (malformed, foreign, an unknown schema). */
  skipped: number;
}

export interface ImportOptions {
  /** Stamp records that carry no cluster with this one (as `serve --cluster` would have). */
  cluster?: string;
  batch?: number;
}

/** The line as stored: the record's JSON (equal to the line serve wrote), stamped with the cluster when asked. */
function storedLine(record: Record<string, unknown>, cluster: string | undefined): string {
  if (cluster !== undefined && record.cluster === undefined) record.cluster = cluster;
  return JSON.stringify(record);
}

export async function importRecords(db: pg.Pool, sources: readonly string[], opts: ImportOptions = {}): Promise<ImportStats> {
  const files = await resolveRecordSources(sources);
  if (files.includes('-')) throw new DriftguardError('DG_USAGE', 'store import reads files, not standard input');
  const stats: ImportStats = { files, lines: 0, records: 0, inserted: 0, skipped: 0 };
  const partitions = new Partitions();
  const max = opts.batch ?? 5_000;
  let batch: StoreRow[] = [];
  let writing = false;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const rows = batch;
    batch = [];
    writing = true;
    stats.inserted += await insertRows(db, partitions, rows);
    writing = false;
  };
  for (const file of files) {
    const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    try {
      for await (const text of rl) {
        if (text.trim() === '') continue;
        stats.lines++;
        const parsed = parseRecordLine(text);
        const row = parsed.kind === 'record' ? toRow(storedLine(parsed.record, opts.cluster), parsed.record) : undefined;
        if (row === undefined) {
          stats.skipped++;
          continue;
        }
        stats.records++;
        batch.push(row);
        if (batch.length >= max) await flush();
      }
    } catch (err) {
      // The store's errors are the caller's to word; a file that cannot be read is an input error.
      if (writing) throw err;
      throw new DriftguardError('DG_INPUT', `cannot read ${file}: ${systemErrorText(err)}`, { cause: err });
    }
  }
  await flush();
  return stats;
}
