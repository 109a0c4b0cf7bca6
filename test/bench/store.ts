/**
 * The records store, measured (printed, never gated): `npm run bench:store`. A throwaway PostgreSQL
 * (test/support/postgres.ts, fsync on); records made from the scripted day's (examples/recorded-day),
 * each with its own time, uid and object name. Prints the ingest rate through the shipper's INSERT
 * (store/write.ts, one replica's path), explain of one object with many records in a store of many
 * objects, and a day's audit summary, each from the store and from the same records as files.
 * BENCH_STORE_RECORDS sets the store's size (default 1,000,000).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from '../support/cli.js';
import { startPostgres } from '../support/postgres.js';
import { openStore } from '../../src/store/connect.js';
import { migrate } from '../../src/store/migrations.js';
import { toRow, type StoreRow } from '../../src/store/row.js';
import { insertRows, Partitions } from '../../src/store/write.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const TOTAL = Number(process.env.BENCH_STORE_RECORDS ?? 1_000_000);
const HOT = 20_000; // records of the one object explain is asked about
const DAY_START = Date.parse('2026-11-24T00:00:00Z');

const templates = ['driftguard-a.jsonl', 'driftguard-b.jsonl'].flatMap((f) =>
  readFileSync(path.join(REPO, 'examples/recorded-day', f), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>),
);

/** Record i: a template with its own time (spread over one day), uid and object (the first HOT on one object). */
function record(i: number): Record<string, any> {
  const t = templates[i % templates.length]!;
  const name = i < HOT ? 'checkout' : `app-${i % 50_000}`;
  return {
    ...t,
    time: new Date(DAY_START + Math.floor((i * 86_400_000) / TOTAL)).toISOString(),
    uid: `bench-${i}`,
    resource: { ...t.resource, name },
    ...(t.correlation === undefined ? {} : { correlation: String(t.correlation).replace('/checkout ', `/${name} `) }),
  };
}

async function main(): Promise<void> {
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('bench');
    const store = openStore(url, { max: 2 });
    await migrate(store.pool, store.display);
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-bench-store-'));
    const file = path.join(dir, 'records.jsonl');
    const parts = new Partitions();
    let text = '';
    let insertMs = 0;
    const BATCH = 2_000;
    for (let i = 0; i < TOTAL; i += BATCH) {
      const rows: StoreRow[] = [];
      for (let j = i; j < Math.min(TOTAL, i + BATCH); j++) {
        const r = record(j);
        const line = JSON.stringify(r);
        text += `${line}\n`;
        rows.push(toRow(line, r)!);
      }
      const t0 = performance.now();
      await insertRows(store.pool, parts, rows);
      insertMs += performance.now() - t0;
      if (text.length > 64 * 1024 * 1024) {
        writeFileSync(file, text, { flag: 'a' });
        text = '';
      }
    }
    writeFileSync(file, text, { flag: 'a' });
    await store.pool.query('ANALYZE driftguard_records');
    console.log(
      `store ingest: ${TOTAL} records in ${(insertMs / 1000).toFixed(1)} s of INSERTs = ${Math.round(TOTAL / (insertMs / 1000))} records/s (batches of ${BATCH}, one connection, fsync on)`,
    );
    const time = async (label: string, argv: string[]): Promise<void> => {
      const t0 = performance.now();
      const r = await cli(argv, { now: new Date('2026-11-25T00:00:00Z') });
      const ms = performance.now() - t0;
      if (r.code !== 0) throw new Error(`${label} failed (${r.code}): ${r.stderr}`);
      console.log(`${label}: ${ms.toFixed(0)} ms`);
    };
    await time(`explain of one object with ${HOT} records, from the store of ${TOTAL}`, [
      'explain',
      'deploy/checkout',
      '-n',
      'shop-canary',
      '--store',
      url,
    ]);
    await time(`explain of the same object, from ${TOTAL} records in a file`, ['explain', 'deploy/checkout', '-n', 'shop-canary', file]);
    await time(`audit summary of the day, from the store of ${TOTAL}`, [
      'audit',
      '--since',
      '2026-11-24',
      '--until',
      '2026-11-25',
      '--store',
      url,
    ]);
    await time(`audit summary of the day, from ${TOTAL} records in a file`, [
      'audit',
      '--since',
      '2026-11-24',
      '--until',
      '2026-11-25',
      file,
    ]);
    await store.close();
  } finally {
    await server.stop();
  }
}

await main();
