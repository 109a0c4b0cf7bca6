/** The throwaway PostgreSQL of test/support/postgres.ts: it runs, survives a SIGKILL with what it committed, and checks passwords. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

describe('test PostgreSQL server', () => {
  it('keeps committed rows across a SIGKILL of every server process (fsync on)', async () => {
    expect((await server.sql('SHOW fsync')).rows[0].fsync).toBe('on');
    await server.sql('CREATE TABLE t (n int)');
    await server.sql('INSERT INTO t SELECT generate_series(1, 1000)');
    await server.kill();
    await expect(server.sql('SELECT 1')).rejects.toThrow();
    await server.start();
    expect((await server.sql('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(1000);
  });

  it('refuses a wrong password', async () => {
    const c = new pg.Client({ connectionString: server.urlFor('postgres', 'wrong') });
    await expect(c.connect()).rejects.toThrow(/password authentication failed/);
  });
});
