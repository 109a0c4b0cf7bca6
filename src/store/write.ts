/**
 * Writing rows: one multi-row INSERT per batch (the columns as arrays, unnested server-side: one
 * statement and 17 parameters whatever the batch size), `ON CONFLICT DO NOTHING` on (time, id), so
 * a batch sent twice (a retry after a lost answer, a spool replayed after a crash, a file imported
 * again) adds nothing. The monthly partition a row falls in is created before the first row of that
 * month is written; `dropExpiredPartitions` drops whole months past the retention.
 */
import type pg from 'pg';
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

const INSERT = `INSERT INTO ${RECORDS_TABLE} (${COLUMNS})
SELECT t, id, cluster, type, stage, api_group, resource, subresource, kind, namespace, name, username, policy, decision, uid,
  CASE WHEN fields = '' THEN '{}'::text[] ELSE string_to_array(fields, E'\\n') END, line
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
  $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
  AS u(t, id, cluster, type, stage, api_group, resource, subresource, kind, namespace, name, username, policy, decision, uid, fields, line)
ON CONFLICT (time, id) DO NOTHING`;

/** Insert rows (one statement); returns how many were new. */
export async function insertRows(db: Pick<pg.Pool, 'query'>, partitions: Partitions, rows: readonly StoreRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  await partitions.ensure(
    db,
    rows.map((r) => r.time),
  );
  const cols: unknown[][] = Array.from({ length: 17 }, () => new Array<unknown>(rows.length));
  rows.forEach((r, i) => {
    cols[0]![i] = r.time;
    cols[1]![i] = r.id;
    cols[2]![i] = r.cluster;
    cols[3]![i] = r.type;
    cols[4]![i] = r.stage;
    cols[5]![i] = r.apiGroup;
    cols[6]![i] = r.resource;
    cols[7]![i] = r.subresource;
    cols[8]![i] = r.kind;
    cols[9]![i] = r.namespace;
    cols[10]![i] = r.name;
    cols[11]![i] = r.username;
    cols[12]![i] = r.policy;
    cols[13]![i] = r.decision;
    cols[14]![i] = r.uid;
    cols[15]![i] = r.fields;
    cols[16]![i] = r.line;
  });
  const res = await db.query(INSERT, cols);
  return res.rowCount ?? 0;
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
