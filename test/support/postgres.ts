/**
 * A throwaway PostgreSQL server from Debian's packages, for tests of the records store (installed by
 * scripts/ensure-system-deps.sh). initdb in a temp dir, password (SCRAM) authentication on a
 * loopback port, the Unix socket in the temp dir, fsync on. PostgreSQL refuses to run as root:
 * as root, initdb and postgres run as the package's `postgres` user (setpriv, which execs, so the
 * pid we hold is the postmaster's), with the temp dir handed to it. The server runs in its own
 * process group, so `kill()` SIGKILLs the postmaster and every backend at once: a crash of the
 * server, as the OOM killer or a node failure would leave it; `start()` again recovers from the WAL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** The superuser's URL (user postgres, with its password) on 127.0.0.1. */
  url: string;
  port: number;
  dir: string;
  /** A URL for another user or database on this server. */
  urlFor(user: string, password: string, database?: string): string;
  /** Run SQL as the superuser (a fresh connection each time). */
  sql(text: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Create a database and return the superuser's URL for it. */
  createDatabase(name: string): Promise<string>;
  /** SIGKILL the postmaster and all its backends (no shutdown checkpoint). */
  kill(): Promise<void>;
  /** Start the server again on the same port and data directory (after kill or stop). */
  start(): Promise<void>;
  /** Fast shutdown, then remove the data directory. */
  stop(): Promise<void>;
}

const SUPERUSER_PASSWORD = 'test-superuser-secret';

/** The directory holding initdb and postgres: DRIFTGUARD_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
function postgresBin(): string {
  const given = process.env.DRIFTGUARD_PG_BIN;
  if (given !== undefined && given !== '') return given;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(path.join(root, d, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  if (majors.length === 0) {
    throw new Error('PostgreSQL is not installed: run scripts/ensure-system-deps.sh (Debian package postgresql) or set DRIFTGUARD_PG_BIN');
  }
  return path.join(root, majors[majors.length - 1]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function asPostgresUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error('running as root, but there is no postgres user (Debian package postgresql creates it)');
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], uid, gid };
}

async function until(what: string, ms: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  let delay = 20;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(250, delay * 2);
  }
}

export interface PostgresOptions {
  /** More server settings (`-c name=value`), e.g. a bench's larger max_wal_size. */
  settings?: Readonly<Record<string, string>>;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  const user = asPostgresUser();
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-pg-'));
  const data = path.join(dir, 'data');
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, `${SUPERUSER_PASSWORD}\n`);
  chmodSync(dir, 0o700);
  if (user.uid !== undefined) {
    chownSync(dir, user.uid, user.gid!);
    chownSync(pwfile, user.uid, user.gid!);
  }
  const [cmd, ...pre] = [...user.prefix, path.join(bin, 'initdb')];
  const init = spawnSync(
    cmd!,
    [...pre, '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale'],
    {
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  rmSync(pwfile);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const urlFor = (name: string, password: string, database = 'postgres'): string =>
    `postgres://${encodeURIComponent(name)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const url = urlFor('postgres', SUPERUSER_PASSWORD);
  const sql = async (text: string, params?: unknown[]): Promise<pg.QueryResult> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await c.connect();
    try {
      return await c.query(text, params);
    } finally {
      await c.end();
    }
  };

  const start = async (): Promise<void> => {
    const [pcmd, ...ppre] = [...user.prefix, path.join(bin, 'postgres')];
    log = '';
    const c = spawn(
      pcmd!,
      [
        ...ppre,
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=on',
        '-c',
        'max_connections=100',
        ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
    );
    child = c;
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      log = (log + d).slice(-20_000);
    });
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    await until('PostgreSQL to accept connections', 30_000, async () => {
      if (gone) throw new Error(`postgres exited: ${log}`);
      try {
        await sql('SELECT 1');
        return true;
      } catch {
        return false;
      }
    });
  };

  const kill = async (): Promise<void> => {
    const c = child;
    if (c?.pid === undefined || c.exitCode !== null) return;
    process.kill(-c.pid, 'SIGKILL');
    await exited;
    // The backends of the group die with it; wait until none holds the data directory's shared memory.
    await until('the killed backends to be gone', 10_000, async () => spawnSync('pgrep', ['-g', String(c.pid)]).status !== 0);
  };

  await start();
  return {
    url,
    port,
    dir,
    urlFor,
    sql,
    async createDatabase(name) {
      await sql(`CREATE DATABASE ${name}`);
      return urlFor('postgres', SUPERUSER_PASSWORD, name);
    },
    kill,
    start,
    async stop() {
      const c = child;
      if (c?.pid !== undefined && c.exitCode === null) {
        c.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
