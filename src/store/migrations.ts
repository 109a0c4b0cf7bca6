/**
 * The store's schema, owned by numbered migrations: `driftguard store migrate` applies the missing
 * ones in order, each in its own transaction, under an advisory lock so two callers never apply one
 * twice; `serve` does so at start only with `--store-migrate`. A database at a version this build
 * does not know (a newer driftguard migrated it) is refused, never written: docs/store.md.
 *
 * Kept to what PostgreSQL-compatible distributed engines also take (docs/store.md): declarative
 * range partitions, plain b-tree indexes, a sequence, text and text[] columns; no triggers, no
 * extensions, no stored procedures.
 */
import type pg from 'pg';
import { DriftguardError } from '../errors.js';
import { withConnection } from './connect.js';

interface Migration {
  version: number;
  description: string;
  statements: string[];
}

export const RECORDS_TABLE = 'driftguard_records';
const VERSION_TABLE = 'driftguard_schema_version';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'records partitioned by month; indexes for object, time, actor and policy',
    statements: [
      `CREATE TABLE ${VERSION_TABLE} (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE SEQUENCE ${RECORDS_TABLE}_seq`,
      `CREATE TABLE ${RECORDS_TABLE} (
        time timestamptz NOT NULL,
        id text NOT NULL,
        cluster text NOT NULL,
        type text NOT NULL,
        stage text,
        api_group text NOT NULL,
        resource text NOT NULL,
        subresource text NOT NULL,
        kind text NOT NULL,
        namespace text NOT NULL,
        name text,
        username text NOT NULL,
        policy text,
        decision text,
        uid text NOT NULL,
        fields text[] NOT NULL,
        line text NOT NULL,
        seq bigint NOT NULL DEFAULT nextval('${RECORDS_TABLE}_seq'),
        PRIMARY KEY (time, id)
      ) PARTITION BY RANGE (time)`,
      // explain and history: one object's records (the name first: the most selective).
      `CREATE INDEX ${RECORDS_TABLE}_object ON ${RECORDS_TABLE} (name, resource, namespace, api_group, cluster, time)`,
      // The nameless entry/exit records of a generateName CREATE, paired with their named final.
      `CREATE INDEX ${RECORDS_TABLE}_nameless ON ${RECORDS_TABLE} (resource, namespace, time) WHERE name IS NULL`,
      // audit: violations by time, by actor, by policy.
      `CREATE INDEX ${RECORDS_TABLE}_type_time ON ${RECORDS_TABLE} (type, time)`,
      `CREATE INDEX ${RECORDS_TABLE}_actor ON ${RECORDS_TABLE} (username, time)`,
      `CREATE INDEX ${RECORDS_TABLE}_policy ON ${RECORDS_TABLE} (policy, time) WHERE policy IS NOT NULL`,
    ],
  },
];

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** The database's schema version: 0 when driftguard never migrated it. */
async function schemaVersion(db: Queryable): Promise<number> {
  const exists = await db.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [VERSION_TABLE]);
  if (exists.rows[0]?.t === null || exists.rows[0]?.t === undefined) return 0;
  const r = await db.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${VERSION_TABLE}`);
  return r.rows[0]?.v ?? 0;
}

function newerError(version: number, display: string): DriftguardError {
  return new DriftguardError(
    'DG_STORE_SCHEMA',
    `the records store ${display} is at schema version ${version}, newer than this driftguard knows (${SCHEMA_VERSION}): run a driftguard at least as new as the one that migrated it`,
  );
}

/** Throws DG_STORE_SCHEMA unless the database is at exactly this build's schema version. */
export async function checkSchema(db: Queryable, display: string): Promise<void> {
  const v = await schemaVersion(db);
  if (v > SCHEMA_VERSION) throw newerError(v, display);
  if (v < SCHEMA_VERSION) {
    throw new DriftguardError(
      'DG_STORE_SCHEMA',
      `the records store ${display} is at schema version ${v}, this driftguard needs ${SCHEMA_VERSION}: run \`driftguard store migrate\` (or serve with --store-migrate)`,
    );
  }
}

/** Apply the migrations the database lacks; returns the versions before and after. */
export async function migrate(pool: pg.Pool, display: string): Promise<{ from: number; to: number }> {
  return withConnection(pool, async (client) => {
    // A session lock: held across the migrations' own transactions, released when the client is.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['driftguard-store-migrate']);
    const from = await schemaVersion(client);
    if (from > SCHEMA_VERSION) throw newerError(from, display);
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      await client.query('BEGIN');
      try {
        for (const s of m.statements) await client.query(s);
        await client.query(`INSERT INTO ${VERSION_TABLE} (version, description) VALUES ($1, $2)`, [m.version, m.description]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['driftguard-store-migrate']);
    return { from, to: SCHEMA_VERSION };
  });
}
