/**
 * The records store, measured (printed, never gated): `npm run bench:store`. A throwaway PostgreSQL
 * (test/support/postgres.ts, fsync on, max_wal_size 8GB so a bulk load is not one checkpoint after
 * another); records made from the scripted day's (examples/recorded-day), each with its own time,
 * uid and object name, spread evenly over DAYS days. Prints:
 * - the ingest rate of store/write.ts (COPY straight into the records; a batch with a row already
 *   stored goes through the staging table: one replica's shipper path) for several batch sizes, then the whole load;
 * - explain of one object (one with HOT records, one with a typical count) from the store;
 * - a day's audit summary from the store;
 * - explain and the audit summary from the first FILE_RECORDS records as a file.
 * BENCH_STORE_RECORDS sets the store's size (default 10,000,000); BENCH_STORE_HOLD=1 keeps the
 * server running after the figures (its URL printed) until the process is interrupted.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from '../support/cli.js';
import { startPostgres } from '../support/postgres.js';
import { openStore } from '../../src/store/connect.js';
import { migrate } from '../../src/store/migrations.js';
import { toRow, type StoreRow } from '../../src/store/row.js';
import { insertRows, Partitions } from '../../src/store/write.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const TOTAL = Number(process.env.BENCH_STORE_RECORDS ?? 10_000_000);
const FILE_RECORDS = Math.min(TOTAL, 1_000_000);
const HOT = Math.min(20_000, Math.floor(TOTAL / 10)); // records of the one object explain is asked about first
const OBJECTS = 50_000; // the other objects' names: TOTAL / OBJECTS records each
const DAYS = 100;
const DAY_MS = 86_400_000;
const START = Date.parse('2026-08-01T00:00:00Z');
const AUDIT_DAY = new Date(START + 50 * DAY_MS); // a day in the middle
const SWEEP = [1_000, 2_000, 5_000, 10_000, 20_000];
const SWEEP_RECORDS = 100_000;
const LOAD_BATCH = Number(process.env.BENCH_STORE_BATCH ?? 10_000);

const templates = ['driftguard-a.jsonl', 'driftguard-b.jsonl'].flatMap((f) =>
  readFileSync(path.join(REPO, 'examples/recorded-day', f), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>),
);

const hotEvery = Math.floor(TOTAL / HOT);

/** Record i: a template with its own time (i-th of TOTAL over DAYS days), uid and object (every hotEvery-th on one object). */
function record(i: number): Record<string, any> {
  const t = templates[i % templates.length]!;
  const name = i % hotEvery === 0 ? 'checkout' : `app-${Math.floor(i / templates.length) % OBJECTS}`;
  return {
    ...t,
    time: new Date(START + Math.floor((i * DAYS * DAY_MS) / TOTAL)).toISOString(),
    uid: `bench-${i}`,
    resource: { ...t.resource, name },
    ...(t.correlation === undefined ? {} : { correlation: String(t.correlation).replace('/checkout ', `/${name} `) }),
  };
}

function rowsFor(from: number, to: number, file: NodeJS.WritableStream | undefined): StoreRow[] {
  const rows: StoreRow[] = [];
  let text = '';
  for (let i = from; i < to; i++) {
    const r = record(i);
    const line = JSON.stringify(r);
    if (file !== undefined && i < FILE_RECORDS) text += `${line}\n`;
    rows.push(toRow(line, r)!);
  }
  if (text !== '') file!.write(text);
  return rows;
}

const rate = (n: number, ms: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} records/s`;

async function main(): Promise<void> {
  const server = await startPostgres({ settings: { max_wal_size: '8GB' } });
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-bench-store-'));
  try {
    const url = await server.createDatabase('bench');
    const store = openStore(url, { max: 2 });
    await migrate(store.pool, store.display);
    const file = path.join(dir, 'records.jsonl');
    const out = createWriteStream(file);
    const parts = new Partitions();
    console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores)`);
    // Batch sizes, each over its own SWEEP_RECORDS records: the rows are made first, only the store's write is timed.
    let next = 0;
    for (const batch of SWEEP) {
      if (next + SWEEP_RECORDS > TOTAL) break;
      let ms = 0;
      for (let i = next; i < next + SWEEP_RECORDS; i += batch) {
        const rows = rowsFor(i, Math.min(next + SWEEP_RECORDS, i + batch), out);
        const t0 = performance.now();
        await insertRows(store.pool, parts, rows);
        ms += performance.now() - t0;
      }
      next += SWEEP_RECORDS;
      console.log(`store ingest, batches of ${batch}: ${rate(SWEEP_RECORDS, ms)} (COPY, one connection, fsync on)`);
    }
    // The rest: the next batch is made while the store writes the last one (the shipper's queue fills meanwhile too).
    const loadStart = performance.now();
    let writeMs = 0;
    let makeMs = 0;
    let pending: Promise<void> = Promise.resolve();
    const loaded0 = next;
    for (let i = next; i < TOTAL; i += LOAD_BATCH) {
      const t0 = performance.now();
      const rows = rowsFor(i, Math.min(TOTAL, i + LOAD_BATCH), out);
      makeMs += performance.now() - t0;
      await pending;
      pending = (async () => {
        const t1 = performance.now();
        await insertRows(store.pool, parts, rows);
        writeMs += performance.now() - t1;
      })();
      if ((i / LOAD_BATCH) % 100 === 0 && i > next) {
        console.log(`  ${i.toLocaleString('en-US')} records, ${((performance.now() - loadStart) / 1000).toFixed(0)} s`);
      }
    }
    await pending;
    await new Promise<void>((resolve) => out.end(resolve));
    const loadMs = performance.now() - loadStart;
    console.log(
      `store load: ${(TOTAL - loaded0).toLocaleString('en-US')} records in ${(loadMs / 1000).toFixed(0)} s = ${rate(TOTAL - loaded0, loadMs)} wall ` +
        `(store writes alone ${rate(TOTAL - loaded0, writeMs)}, batches of ${LOAD_BATCH}; making the rows, JSON and ids, ${rate(TOTAL - loaded0, makeMs)})`,
    );
    const t0 = performance.now();
    await store.pool.query('VACUUM ANALYZE driftguard_records');
    console.log(`VACUUM ANALYZE: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const count = await store.pool.query<{ n: string }>('SELECT count(*) AS n FROM driftguard_records');
    const size = await store.pool.query<{ s: string }>(`SELECT pg_size_pretty(pg_database_size('bench')) AS s`);
    console.log(`records in the store: ${Number(count.rows[0]!.n).toLocaleString('en-US')} (database ${size.rows[0]!.s})`);
    await store.close();

    const day = AUDIT_DAY.toISOString().slice(0, 10);
    const dayEnd = new Date(AUDIT_DAY.getTime() + DAY_MS).toISOString().slice(0, 10);
    const time = async (label: string, argv: string[]): Promise<void> => {
      const runs: number[] = [];
      let lines = 0;
      for (let k = 0; k < 3; k++) {
        const t1 = performance.now();
        const r = await cli(argv, { now: new Date(START + DAYS * DAY_MS) });
        runs.push(performance.now() - t1);
        if (r.code !== 0) throw new Error(`${label} failed (${r.code}): ${r.stderr}`);
        lines = r.stdout.split('\n').length;
      }
      console.log(`${label}: ${runs.map((m) => m.toFixed(0)).join(' / ')} ms (three runs; ${lines} lines out)`);
    };
    const named = Math.min(OBJECTS, Math.ceil(TOTAL / templates.length)); // app-N names in use
    const typical = `app-${Math.floor(named / 2)}`;
    const typicalCount = Math.round(TOTAL / named);
    await time(`explain of one object with ${HOT} records, from the store of ${TOTAL}`, [
      'explain',
      'deploy/checkout',
      '-n',
      'shop-canary',
      '--store',
      url,
    ]);
    await time(`explain of one object with about ${typicalCount} records, from the store of ${TOTAL}`, [
      'explain',
      `deploy/${typical}`,
      '-n',
      'shop-canary',
      '--store',
      url,
    ]);
    await time(`audit summary of one day (${day}, about ${Math.round(TOTAL / DAYS)} records), from the store of ${TOTAL}`, [
      'audit',
      '--since',
      day,
      '--until',
      dayEnd,
      '--store',
      url,
    ]);
    await time(`explain of the object with ${Math.ceil(FILE_RECORDS / hotEvery)} records, from ${FILE_RECORDS} records in a file`, [
      'explain',
      'deploy/checkout',
      '-n',
      'shop-canary',
      file,
    ]);
    const fileDay = new Date(START + 5 * DAY_MS).toISOString().slice(0, 10);
    const fileDayEnd = new Date(START + 6 * DAY_MS).toISOString().slice(0, 10);
    await time(`audit summary of one day (${fileDay}), from ${FILE_RECORDS} records in a file`, [
      'audit',
      '--since',
      fileDay,
      '--until',
      fileDayEnd,
      file,
    ]);
    console.log(`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    if (process.env.BENCH_STORE_HOLD === '1') {
      console.log(`holding the store: ${url} (file ${file}); interrupt to stop`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
