/**
 * The records store against a real PostgreSQL (test/support/postgres.ts): `store migrate` and
 * `store import`, explain, history and audit from the store equal to the same commands over the
 * same records as files, `--cluster`, retention, and the clear DG_ errors (exit 2, no stack trace)
 * for a wrong password, an unreachable host, a read-only role, a database not migrated or migrated
 * by a newer driftguard.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/records/read.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const DAY = [path.join(REPO, 'examples/recorded-day/driftguard-a.jsonl'), path.join(REPO, 'examples/recorded-day/driftguard-b.jsonl')];
const AUDIT = [
  path.join(REPO, 'test/fixtures/records/audit/replica-a.jsonl'),
  path.join(REPO, 'test/fixtures/records/audit/replica-b.jsonl'),
];
const lines = (files: string[]) =>
  files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );

let server: PostgresServer;
let url: string;

beforeAll(async () => {
  server = await startPostgres();
  url = await server.createDatabase('records');
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

async function inRecords(text: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text);
  } finally {
    await c.end();
  }
}

/** No stack trace: no "    at fn (file:line)" line. */
function expectNoStack(text: string): void {
  expect(text).not.toMatch(/^\s+at .+:\d+/m);
}

/** What differs between file and store output by design: where records were read from, and how many lines that was. */
function withoutSource(json: string): unknown {
  const v = JSON.parse(json) as Record<string, any>;
  if (v.stats !== undefined) {
    delete v.stats.files;
    delete v.stats.records;
    delete v.stats.malformed;
  }
  delete v.read;
  return v;
}

describe('store migrate and import', () => {
  it('migrates once, then has nothing to do', async () => {
    const first = await cli(['store', 'migrate', '--store', url]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`schema migrated from version 0 to ${SCHEMA_VERSION}`);
    // The password never shows.
    expect(first.stdout).not.toContain('test-superuser-secret');
    const again = await cli(['store', 'migrate', '--store', url]);
    expect(again.stdout).toContain(`schema at version ${SCHEMA_VERSION}, nothing to do`);
  });

  it('imports records files idempotently: a second import adds nothing', async () => {
    const files = [...DAY, ...AUDIT];
    const n = lines(files).filter((l) => parseRecordLine(l).kind === 'record').length;
    const other = lines(files).length - n;
    expect(other).toBeGreaterThan(0);
    const first = await cli(['store', 'import', '--store', url, ...files]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`imported ${n} record(s) from 4 file(s)`);
    expect(first.stdout).toContain(`${n} new, 0 already there; ${other} line(s) that are not records skipped`);
    const again = await cli(['store', 'import', '--store', url, ...files]);
    expect(again.stdout).toContain(`0 new, ${n} already there`);
    const rows = await inRecords('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM driftguard_records');
    expect(rows.rows[0]).toEqual({ n, ids: n });
    // Each in the month partition its time falls in.
    const parts = await inRecords(`SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM driftguard_records GROUP BY 1 ORDER BY 1`);
    expect(parts.rows).toEqual([{ p: 'driftguard_records_202611', n }]);
  });
});

describe('readers from the store equal readers from files', () => {
  const explainCases: string[][] = [
    ['explain', 'deploy/checkout', '-n', 'shop-canary'],
    ['explain', 'deploy/checkout', '-n', 'shop-canary', '--all'],
    ['explain', 'deploy/checkout', '-n', 'shop-canary', '--until', '2026-11-24T11:10:00Z'],
    ['explain', 'deploy/checkout', '-n', 'shop-canary', '--since', '2026-11-24T10:15:00Z'],
    ['explain', 'deploy/checkout', '-n', 'shop-canary', '--field', '/spec/template/spec/containers[name=checkout]'],
    ['history', 'deploy/checkout', '-n', 'shop-canary'],
    ['history', 'deploy/checkout', '-n', 'shop-canary', '--reverse', '--since', '2026-11-24T10:00:00Z'],
    ['history', 'deploy/checkout', '-n', 'shop-canary', '--field', '/spec/replicas'],
  ];
  for (const args of explainCases) {
    it(`${args.join(' ')}: table and JSON`, async () => {
      // The files right after the object: --field takes every word after it.
      const fromFiles = await cli([...args.slice(0, 2), ...DAY, ...args.slice(2)]);
      const fromStore = await cli([...args.slice(0, 2), '--store', url, ...args.slice(2)]);
      expect(fromFiles.code).toBe(0);
      expect(fromStore.stderr).toBe(fromFiles.stderr);
      expect(fromStore.code).toBe(fromFiles.code);
      expect(fromStore.stdout).toBe(fromFiles.stdout);
      expect((fromStore.stdout + fromStore.stderr).length).toBeGreaterThan(80);
      const jf = await cli([...args.slice(0, 2), ...DAY, '-o', 'json', ...args.slice(2)]);
      const js = await cli([...args.slice(0, 2), '-o', 'json', '--store', url, ...args.slice(2)]);
      expect(withoutSource(js.stdout)).toEqual(withoutSource(jf.stdout));
    });
  }

  it('an object with no records: the same hint, naming the namespace it has records in', async () => {
    const f = await cli(['explain', 'deploy/checkout', '-n', 'shop', ...DAY]);
    const s = await cli(['explain', 'deploy/checkout', '-n', 'shop', '--store', url]);
    expect(s.code).toBe(1);
    expect(s.code).toBe(f.code);
    const hint = (t: string) => t.slice(t.indexOf('source(s)).'));
    expect(hint(s.stderr)).toBe(hint(f.stderr));
    expect(s.stderr).toContain('try -n shop-canary');
  });

  const auditCases: string[][] = [
    [],
    ['--view', 'list'],
    ['--view', 'list', '-o', 'csv'],
    ['-o', 'csv'],
    ['--user', 'oidc:jane*'],
    ['--policy', 'argocd-prod', '--decision', 'denied'],
    ['--namespace', 'prod-*', '--name', 'web'],
    ['--field', '/spec/template'],
    ['--kind', 'deployments', '--group', 'oidc:developers'],
    ['--since', '2026-11-18', '--until', '2026-11-21'],
    ['--user', 'nobody'],
  ];
  for (const flags of auditCases) {
    it(`audit ${flags.join(' ') || '(summary)'}`, async () => {
      const fromFiles = await cli(['audit', ...flags, ...DAY, ...AUDIT]);
      const fromStore = await cli(['audit', ...flags, '--store', url]);
      expect(fromFiles.code).toBe(0);
      expect(fromStore.code).toBe(0);
      expect(fromStore.stdout).toBe(fromFiles.stdout);
      if (flags.length === 0 || flags.includes('list')) expect(fromStore.stdout).toMatch(/jane/);
      const jf = await cli(['audit', ...flags, '-o', 'json', ...DAY, ...AUDIT]);
      const js = await cli(['audit', ...flags, '-o', 'json', '--store', url]);
      expect(withoutSource(js.stdout)).toEqual(withoutSource(jf.stdout));
    });
  }
});

describe('--cluster', () => {
  it('serve-stamped clusters: each reader keeps only the cluster asked for, from files and from the store', async () => {
    const db = await server.createDatabase('fleet');
    expect((await cli(['store', 'migrate', '--store', db])).code).toBe(0);
    expect((await cli(['store', 'import', '--store', db, '--cluster', 'east', DAY[0]!])).code).toBe(0);
    expect((await cli(['store', 'import', '--store', db, '--cluster', 'west', DAY[1]!])).code).toBe(0);
    // The same split as files: each replica's records stamped as serve --cluster would have.
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-cluster-'));
    const stamp = (file: string, cluster: string, out: string): string => {
      const p = path.join(dir, out);
      writeFileSync(
        p,
        lines([file])
          .map((l) => JSON.stringify({ ...JSON.parse(l), cluster }))
          .join('\n') + '\n',
      );
      return p;
    };
    const east = stamp(DAY[0]!, 'east', 'east.jsonl');
    const west = stamp(DAY[1]!, 'west', 'west.jsonl');
    for (const cluster of ['east', 'west']) {
      const f = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--cluster', cluster, east, west]);
      const s = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--cluster', cluster, '--store', db]);
      expect(s.stdout).toBe(f.stdout);
      expect(s.code).toBe(f.code);
    }
    const all = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--store', db]);
    const eastOnly = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--cluster', 'east', '--store', db]);
    expect(all.stdout).not.toBe(eastOnly.stdout);
    expect(eastOnly.stdout.length).toBeGreaterThan(0);
  });
});

describe('retention', () => {
  it('store migrate --store-retention drops whole months past it, keeps the rest', async () => {
    const db = await server.createDatabase('retention');
    expect((await cli(['store', 'migrate', '--store', db])).code).toBe(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-retention-'));
    const old = path.join(dir, 'old.jsonl');
    // The day's records moved a year back: another month's partition.
    writeFileSync(
      old,
      lines(DAY)
        .map((l) => l.replace(/"time":"2026-/, '"time":"2025-'))
        .join('\n') + '\n',
    );
    expect((await cli(['store', 'import', '--store', db, old, ...DAY])).code).toBe(0);
    const r = await cli(['store', 'migrate', '--store', db, '--store-retention', '400d'], { now: new Date('2027-01-10T00:00:00Z') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dropped 1 partition(s) past the retention: driftguard_records_202511');
    const left = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--store', db, '-o', 'json']);
    const entries = (JSON.parse(left.stdout) as { entries: Array<{ time: string }> }).entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.time.startsWith('2026-'))).toBe(true);
  });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('clear errors, exit 2, no stack trace', () => {
  it('a wrong password', async () => {
    const r = await cli(['explain', 'deploy/checkout', '-n', 'shop-canary', '--store', server.urlFor('postgres', 'wrong', 'records')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error DG_STORE: cannot read from the records store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/records: the password was refused/,
    );
    expect(r.stderr).not.toContain('wrong');
    expectNoStack(r.stderr);
  });

  it('an unreachable host', async () => {
    const port = await closedPort();
    const r = await cli(['audit', '--store', `postgres://postgres:x@127.0.0.1:${port}/records`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error DG_STORE: .*nothing listens there \(connection refused\)/);
    expectNoStack(r.stderr);
  });

  it('a read-only role: reads work, an import says the role may not write and writes nothing', async () => {
    await server.sql(`CREATE ROLE reader LOGIN PASSWORD 'reader-pw'`);
    const records = await server.createDatabase('readonly');
    expect((await cli(['store', 'migrate', '--store', records])).code).toBe(0);
    await server.sql(`GRANT CONNECT ON DATABASE readonly TO reader`);
    const client = new pg.Client({ connectionString: records });
    await client.connect();
    await client.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader');
    const readerUrl = server.urlFor('reader', 'reader-pw', 'readonly');
    const read = await cli(['audit', '--store', readerUrl]);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('0 violations');
    const r = await cli(['store', 'import', '--store', readerUrl, ...DAY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error DG_STORE: cannot import into the records store .*: the role lacks a privilege the store needs: permission denied/,
    );
    expectNoStack(r.stderr);
    const rows = await client.query('SELECT count(*)::int AS n FROM driftguard_records');
    await client.end();
    expect(rows.rows[0].n).toBe(0);
  });

  it('a database not migrated yet: says to migrate', async () => {
    const fresh = await server.createDatabase('fresh');
    const r = await cli(['history', 'deploy/checkout', '-n', 'shop-canary', '--store', fresh]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^error DG_STORE_SCHEMA: the records store .* is at schema version 0, this driftguard needs 1: run `driftguard store migrate`/,
    );
  });

  it('a database at a newer schema: refused by readers, import and migrate, and left as it was', async () => {
    const newer = await server.createDatabase('newer');
    expect((await cli(['store', 'migrate', '--store', newer])).code).toBe(0);
    const client = new pg.Client({ connectionString: newer });
    await client.connect();
    await client.query(`INSERT INTO driftguard_schema_version (version, description) VALUES (${SCHEMA_VERSION + 1}, 'from the future')`);
    for (const args of [
      ['audit', '--store', newer],
      ['store', 'import', '--store', newer, ...DAY],
      ['store', 'migrate', '--store', newer],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error DG_STORE_SCHEMA: the records store .* is at schema version ${SCHEMA_VERSION + 1}, newer than this driftguard knows \\(${SCHEMA_VERSION}\\)`,
        ),
      );
      expectNoStack(r.stderr);
    }
    const rows = await client.query('SELECT count(*)::int AS n FROM driftguard_records');
    await client.end();
    expect(rows.rows[0].n).toBe(0);
  });

  it('usage: files and --store together; a URL of another scheme', async () => {
    const both = await cli(['audit', '--store', url, ...AUDIT]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('error DG_USAGE: read records from files or from --store, not both');
    const mysql = await cli(['audit', '--store', 'mysql://u:p@127.0.0.1/x']);
    expect(mysql.code).toBe(2);
    expect(mysql.stderr).toContain('must start with postgres:// or postgresql://');
  });
});
