/**
 * store/write.ts against a real PostgreSQL: a batch of new rows goes by COPY straight into the
 * records, with every changed field's path back exactly as written (a text[] literal of paths
 * holding commas, quotes, backslashes, braces, tabs, `NULL`, spaces, non-ASCII); a batch with a
 * row already stored falls back to the staging table and adds only the new rows; the same batch
 * twice adds nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordLine } from '../../src/records/sink.js';
import { migrate, RECORDS_TABLE } from '../../src/store/migrations.js';
import { toRow, type StoreRow } from '../../src/store/row.js';
import { insertRows, Partitions } from '../../src/store/write.js';
import { readJson } from '../support/fixtures.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

let server: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase('records');
  pool = new pg.Pool({ connectionString: url, max: 2 });
  await migrate(pool, 'test store');
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const awkward = readJson<Record<string, any>>('store', 'awkward-fields.json');

function row(record: Record<string, unknown>): StoreRow {
  const line = recordLine(record);
  const r = toRow(line, JSON.parse(line) as Record<string, unknown>);
  if (r === undefined) throw new Error('fixture is not a storable record');
  return r;
}

/** The awkward record with its own uid (so its own id) and time. */
function variant(i: number): StoreRow {
  return row({ ...awkward, uid: `${awkward.uid}-${i}`, time: new Date(Date.parse(awkward.time) + i * 1000).toISOString() });
}

async function stored(): Promise<Array<{ uid: string; fields: string[]; line: string }>> {
  return (await pool.query(`SELECT uid, fields, line FROM ${RECORDS_TABLE} ORDER BY seq`)).rows;
}

/** Sessions' temporary staging tables (pg_class lists every session's). */
async function stagingTables(): Promise<number> {
  return Number((await pool.query(`SELECT count(*) AS n FROM pg_class WHERE relname = 'driftguard_stage'`)).rows[0].n);
}

describe('insertRows', () => {
  it('writes new rows once, with every field path as written, and adds only the rows not yet stored', async () => {
    const partitions = new Partitions();
    const first = [variant(0), variant(1)];
    expect(await insertRows(pool, partitions, first)).toBe(2);

    const expectedFields = (awkward.changes as Array<{ path: string; keyed?: string }>).flatMap((c) =>
      c.keyed === undefined ? [c.path] : [c.path, c.keyed],
    );
    let rows = await stored();
    expect(rows.map((r) => r.uid)).toEqual(['awkward-fields-0', 'awkward-fields-1']);
    for (const r of rows) expect(r.fields).toEqual(expectedFields);
    expect(rows[0]!.line).toBe(first[0]!.line);
    // Straight into the records: no session has made the staging table yet.
    expect(await stagingTables()).toBe(0);

    // The same batch again: nothing new (the direct COPY hits the unique key and the batch goes the staging way).
    expect(await insertRows(pool, partitions, first)).toBe(0);
    expect(await stagingTables()).toBe(1);
    // One stored row and two new ones in one batch: the two new are added, the stored one not doubled.
    expect(await insertRows(pool, partitions, [variant(1), variant(2), variant(3)])).toBe(2);
    rows = await stored();
    expect(rows.map((r) => r.uid)).toEqual(['awkward-fields-0', 'awkward-fields-1', 'awkward-fields-2', 'awkward-fields-3']);
    for (const r of rows) expect(r.fields).toEqual(expectedFields);

    // A row with no changed field is an empty array, on both paths.
    const bare = row({ ...awkward, uid: 'bare', changes: [] });
    expect(await insertRows(pool, partitions, [bare])).toBe(1);
    expect(await insertRows(pool, partitions, [bare, variant(4)])).toBe(1);
    const fields = (await pool.query(`SELECT uid, fields FROM ${RECORDS_TABLE} WHERE uid IN ('bare', 'awkward-fields-4') ORDER BY uid`))
      .rows;
    expect(fields).toEqual([
      { uid: 'awkward-fields-4', fields: expectedFields },
      { uid: 'bare', fields: [] },
    ]);
    // The connection that fell back twice is still good for the next batch.
    expect(await insertRows(pool, partitions, [variant(5)])).toBe(1);
  });
});
