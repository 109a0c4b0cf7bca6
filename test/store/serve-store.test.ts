/**
 * serve shipping records to a real PostgreSQL: the database SIGKILLed in the middle of a burst of
 * reviews and started again; every answered review's record is in the database exactly once
 * afterwards, equal to the records file, and no review failed. And a store that refuses the
 * password at start: serve is ready with the spool in use, says why with its DG_ code, and nothing
 * is lost (the spool holds every record; `store import` of it loads them once the store is fixed).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { readJson } from '../support/fixtures.js';
import { memoryLogger } from '../support/memory-log.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { startTestServer } from '../support/server.js';
import { sample } from '../support/prom.js';
import { request } from '../support/https.js';

const get = (u: string, o: { ca: string }) => request(u, { ca: o.ca, method: 'GET' });

let server: PostgresServer;
let url: string;
const review = readJson<any>('reviews', 'kubectl-edit-prod.json');

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('records');
  expect((await cli(['store', 'migrate', '--store', url])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

async function eventually(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function withUid(i: number): unknown {
  return { ...review, request: { ...review.request, uid: `burst-${i}` } };
}

describe('serve --store', () => {
  it('the database killed during a burst of reviews and restarted: every answered review in it exactly once', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-ship-'));
    const spoolFile = path.join(dir, 'spool');
    const s = await startTestServer({
      config: { store: { url, spoolFile, spoolMaxBytes: 256 * 1024 * 1024, retentionMs: 0 }, clusterName: 'east' },
    });
    const TOTAL = 3_000;
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (sent < TOTAL) {
        const i = sent++;
        const res = await s.review(withUid(i));
        if (res.status === 200 && (res.json as any).response.uid === `burst-${i}`) answered++;
        else failed++;
        if (i === 1_000) await server.kill();
        if (i === 2_000) await server.start();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failed).toBe(0);
    expect(answered).toBe(TOTAL);
    await eventually('every record in the store', 90_000, async () => {
      const [r] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM driftguard_records WHERE uid LIKE 'burst-%'`);
      return r!.n >= TOTAL;
    });
    const [counts] = await query<{ n: number; uids: number; east: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT uid)::int AS uids, count(*) FILTER (WHERE cluster = 'east')::int AS east FROM driftguard_records WHERE uid LIKE 'burst-%'`,
    );
    expect(counts).toEqual({ n: TOTAL, uids: TOTAL, east: TOTAL });
    // The store holds the file's lines, byte for byte.
    const fileLines = readFileSync(s.recordsFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"burst-'));
    expect(fileLines.length).toBe(TOTAL);
    const stored = new Set(
      (await query<{ line: string }>(`SELECT line FROM driftguard_records WHERE uid LIKE 'burst-%'`)).map((r) => r.line),
    );
    expect(fileLines.every((l) => stored.has(l))).toBe(true);
    const metrics = await get(`${s.url}/metrics`, { ca: s.ca });
    expect(sample(metrics.text, 'driftguard_store_ship_failures_total')).toBeGreaterThan(0);
    expect(sample(metrics.text, 'driftguard_store_spool_bytes')).toBe(0);
    expect(sample(metrics.text, 'driftguard_store_records_dropped_total')).toBe(0);
    await s.close();
    // Replaying the records file (as after a crash) adds nothing.
    const again = await cli(['store', 'import', '--store', url, s.recordsFile]);
    expect(again.stdout).toContain(`0 new, ${TOTAL} already there`);
  }, 240_000);

  it('a refused password at start: ready, spooling, the DG_STORE reason logged; nothing lost', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-spool-'));
    const spoolFile = path.join(dir, 'spool');
    const log = memoryLogger();
    const s = await startTestServer({
      config: { store: { url: server.urlFor('postgres', 'wrong', 'records'), spoolFile, spoolMaxBytes: 1024 * 1024, retentionMs: 0 } },
      deps: { logger: log.logger },
    });
    const ready = await get(`${s.url}/readyz`, { ca: s.ca });
    expect(ready.status).toBe(200);
    expect(log.entries().some((l) => l.code === 'DG_STORE' && /the password was refused/.test(l.msg))).toBe(true);
    expect(JSON.stringify(log.entries())).not.toContain('wrong@');
    for (let i = 0; i < 20; i++)
      expect((await s.review({ ...review, request: { ...review.request, uid: `spooled-${i}` } })).status).toBe(200);
    await eventually('the records in the spool', 20_000, async () => {
      const m = await get(`${s.url}/metrics`, { ca: s.ca });
      return (sample(m.text, 'driftguard_store_spool_bytes') ?? 0) > 0;
    });
    await s.close();
    const spooled = readFileSync(spoolFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"spooled-'));
    expect(spooled.length).toBe(20);
    const loaded = await cli(['store', 'import', '--store', url, spoolFile]);
    expect(loaded.stdout).toContain('20 new');
  }, 120_000);

  it("two replicas ship into one database: history and audit from it equal those from the two replicas' files", async () => {
    const db = await server.createDatabase('replicas');
    expect((await cli(['store', 'migrate', '--store', db])).code).toBe(0);
    let clock = Date.parse('2026-11-24T09:00:00Z');
    const replicas = await Promise.all(
      ['a', 'b'].map((n) => {
        const dir = mkdtempSync(path.join(tmpdir(), `driftguard-replica-${n}-`));
        return startTestServer({
          now: () => new Date(clock),
          config: { store: { url: db, spoolFile: path.join(dir, 'spool'), spoolMaxBytes: 1 << 24, retentionMs: 0 } },
        });
      }),
    );
    const N = 120;
    for (let i = 0; i < N; i++) {
      clock += 60_000;
      const res = await replicas[i % 2]!.review({ ...review, request: { ...review.request, uid: `replica-${i}` } });
      expect(res.status).toBe(200);
    }
    for (const r of replicas) await r.close();
    const [row] = await (async () => {
      const c = new pg.Client({ connectionString: db });
      await c.connect();
      try {
        return (await c.query<{ n: number }>(`SELECT count(DISTINCT uid)::int AS n FROM driftguard_records`)).rows;
      } finally {
        await c.end();
      }
    })();
    expect(row!.n).toBe(N);
    const files = replicas.map((r) => r.recordsFile);
    const now = { now: new Date('2026-11-25T00:00:00Z') };
    const hf = await cli(['history', 'deploy/web', ...files, '-n', 'prod-shop'], now);
    const hs = await cli(['history', 'deploy/web', '-n', 'prod-shop', '--store', db], now);
    expect(hf.code).toBe(0);
    expect(hs.stdout).toBe(hf.stdout);
    expect(hs.stdout.match(/^DENIED/gm)?.length).toBe(N);
    const af = await cli(['audit', '--view', 'list', '-o', 'json', ...files], now);
    const as = await cli(['audit', '--view', 'list', '-o', 'json', '--store', db], now);
    expect(JSON.parse(as.stdout)).toEqual(JSON.parse(af.stdout));
    expect(JSON.parse(as.stdout)).toHaveLength(N);
  }, 120_000);
});
