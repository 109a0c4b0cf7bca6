/**
 * Writing rows, per batch in one transaction: COPY straight into the records (pg-copy-streams,
 * text format); when a row is already there (unique violation on (time, id): a retry after a lost
 * answer, a spool replayed after a crash, a file imported again), the COPY is rolled back to its
 * savepoint and the batch goes the slow way: COPY into a session's temporary staging table, then
 * one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`. So a batch sent twice adds nothing, a batch
 * is in the store whole or not at all, and the common batch (all new) is written once, not twice.
 * The monthly partition a row falls in is created before the first row of that month is written;
 * `dropExpiredPartitions` drops whole months past the retention.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withConnection } from './connect.js';
import { RECORDS_TABLE } from './migrations.js';
import type { StoreRow } from './row.js';

/** `driftguard_records_202611`: the month a partition holds, UTC. */
function partitionName(year: number, month0: number): string {
  return `${RECORDS_TABLE}_${year}${String(month0 + 1).padStart(2, '0')}`;
}

function monthStart(year: number, month0: number): string {
  return new Date(Date.UTC(year, month0, 1)).toISOString();
}

/** The partitions known to exist (per process: a partition is never dropped while it is written). */
export class Partitions {
  private readonly known = new Set<string>();

  /** Create the monthly partitions these times fall in, where missing. */
  async ensure(db: Pick<pg.Pool, 'query'>, times: Iterable<string>): Promise<void> {
    const months = new Map<string, [number, number]>();
    for (const t of times) {
      const d = new Date(t);
      const key = partitionName(d.getUTCFullYear(), d.getUTCMonth());
      if (!this.known.has(key)) months.set(key, [d.getUTCFullYear(), d.getUTCMonth()]);
    }
    for (const [name, [y, m]] of months) {
      try {
        await db.query(
          `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF ${RECORDS_TABLE} FOR VALUES FROM ('${monthStart(y, m)}') TO ('${monthStart(y, m + 1)}')`,
        );
      } catch (err) {
        // Another writer created it at the same moment (IF NOT EXISTS checks before it locks).
        const code = (err as { code?: string }).code;
        if (code !== '42P07' && code !== '23505') throw err;
      }
      this.known.add(name);
    }
  }

  forget(): void {
    this.known.clear();
  }
}

const COLUMNS =
  'time, id, cluster, type, stage, api_group, resource, subresource, kind, namespace, name, username, policy, decision, uid, fields, line';

const STAGE = 'driftguard_stage';

/** The staging table: per session, emptied at every commit; `fields` newline-separated text as StoreRow holds it. */
const CREATE_STAGE = `CREATE TEMP TABLE IF NOT EXISTS ${STAGE} (
  time timestamptz, id text, cluster text, type text, stage text, api_group text, resource text, subresource text, kind text,
  namespace text, name text, username text, policy text, decision text, uid text, fields text, line text
) ON COMMIT DELETE ROWS`;

const INSERT = `INSERT INTO ${RECORDS_TABLE} (${COLUMNS})
SELECT time, id, cluster, type, stage, api_group, resource, subresource, kind, namespace, name, username, policy, decision, uid,
  CASE WHEN fields = '' THEN '{}'::text[] ELSE string_to_array(fields, E'\\n') END, line
FROM ${STAGE}
ON CONFLICT (time, id) DO NOTHING`;

const SPECIAL = /[\\\n\r\t]/;
const SPECIALS = /[\\\n\r\t]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value in COPY's text format: `\N` for null; backslash, newline, carriage return and tab escaped. */
function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return SPECIAL.test(v) ? v.replace(SPECIALS, (c) => ESCAPES[c]!) : v;
}

/** Newline-separated fields as a text[] literal: every element quoted, `\\` and `"` escaped. */
function arrayLiteral(fields: string): string {
  if (fields === '') return '{}';
  return `{${fields
    .split('\n')
    .map((f) => `"${f.replace(/[\\"]/g, '\\$&')}"`)
    .join(',')}}`;
}

/** A row as a line of COPY text: `fields` as the staging table holds it (text) or as the records do (text[]). */
function copyLine(r: StoreRow, fields: 'text' | 'array'): string {
  return [
    r.time,
    r.id,
    r.cluster,
    r.type,
    r.stage,
    r.apiGroup,
    r.resource,
    r.subresource,
    r.kind,
    r.namespace,
    r.name,
    r.username,
    r.policy,
    r.decision,
    r.uid,
    fields === 'text' ? r.fields : arrayLiteral(r.fields),
    r.line,
  ]
    .map(copyText)
    .join('\t');
}

/** Chunks of COPY data of about this many characters each: the stream's writes stay few and bounded. */
const CHUNK_CHARS = 256 * 1024;

async function copyRows(client: pg.PoolClient, table: string, rows: readonly StoreRow[]): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN`));
  const fields = table === STAGE ? 'text' : 'array';
  const chunks: string[] = [];
  let chunk = '';
  for (const r of rows) {
    chunk += `${copyLine(r, fields)}\n`;
    if (chunk.length >= CHUNK_CHARS) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk !== '') chunks.push(chunk);
  await pipeline(Readable.from(chunks), stream);
}

const UNIQUE_VIOLATION = '23505';

/** Insert rows (one transaction); returns how many were new. */
export async function insertRows(pool: pg.Pool, partitions: Partitions, rows: readonly StoreRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  await partitions.ensure(
    pool,
    rows.map((r) => r.time),
  );
  // On any failure withConnection closes the connection, which ends its transaction: nothing of
  // the batch is kept.
  return withConnection(pool, async (client) => {
    await client.query('BEGIN');
    await client.query('SAVEPOINT driftguard_direct');
    try {
      await copyRows(client, RECORDS_TABLE, rows);
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
      await client.query('ROLLBACK TO SAVEPOINT driftguard_direct');
    }
    // Per session (a temporary table lives as long as its connection); created inside the
    // transaction, so one rolled back leaves no half-made state behind.
    await client.query(CREATE_STAGE);
    await copyRows(client, STAGE, rows);
    const res = await client.query(INSERT);
    await client.query('COMMIT');
    return res.rowCount ?? 0;
  });
}

/**
 * Drop the monthly partitions that end before `now - retentionMs` (whole months only: a month is
 * kept while any of its records is within the retention). Returns the partitions dropped.
 */
export async function dropExpiredPartitions(db: Pick<pg.Pool, 'query'>, now: Date, retentionMs: number): Promise<string[]> {
  const cutoff = now.getTime() - retentionMs;
  // The month is in the partition's name (Partitions.ensure names them): its end is the next month's start.
  const res = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1`,
    [RECORDS_TABLE],
  );
  const dropped: string[] = [];
  const monthly = new RegExp(`^${RECORDS_TABLE}_(\\d{4})(\\d{2})$`);
  for (const { name } of res.rows) {
    const m = monthly.exec(name);
    if (m === null) continue;
    const end = Date.UTC(Number(m[1]), Number(m[2]), 1);
    if (end > cutoff) continue;
    await db.query(`DROP TABLE IF EXISTS ${name}`);
    dropped.push(name);
  }
  return dropped.sort();
}
