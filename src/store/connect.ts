/**
 * Connections to the records store: one pg.Pool (node-postgres) per process, its errors turned into
 * DG_STORE errors in words. A pool's idle connection that the server drops (a restart, a failover)
 * emits 'error' on the pool: handled here, so it never crashes the process; the next query opens
 * a new connection. A connection checked out of the pool (withConnection) has no such listener of
 * the pool's: withConnection adds one for as long as it holds it.
 */
import pg from 'pg';
import { DriftguardError, errorMessage } from '../errors.js';
import { redactStoreUrl } from './url.js';

export interface StoreOptions {
  /** Give up on connecting after this long (default 5 s). */
  connectTimeoutMs?: number;
  /** Give up on one query after this long (default 60 s). */
  queryTimeoutMs?: number;
  /** Connections in the pool (default 4). */
  max?: number;
  /** Called with an idle connection's error (the server went away); the pool recovers by itself. */
  onIdleError?: (err: Error) => void;
  /** `application_name` the server shows in pg_stat_activity. */
  applicationName?: string;
}

export interface Store {
  pool: pg.Pool;
  /** The URL with its password hidden. */
  display: string;
  close(): Promise<void>;
}

export function openStore(url: string, opts: StoreOptions = {}): Store {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    max: opts.max ?? 4,
    idleTimeoutMillis: 30_000,
    // A server that stops answering (not closing) must not hold a batch, or a command, forever.
    query_timeout: opts.queryTimeoutMs ?? 60_000,
    application_name: opts.applicationName ?? 'driftguard',
  });
  pool.on('error', (err) => opts.onIdleError?.(err));
  let closed: Promise<void> | undefined;
  return {
    pool,
    display: redactStoreUrl(url),
    close() {
      closed ??= pool.end().catch(() => undefined);
      return closed;
    },
  };
}

/**
 * Run `use` on a connection checked out of the pool. The server dropping it between two queries (a
 * kill, a restart, a failover) makes node-postgres emit 'error' on the connection, which with no
 * listener ends the process: here it marks the connection broken instead, and the next query on it
 * fails as a query. A connection that failed, or whose `use` threw, is closed rather than given
 * back (a half-done COPY, an aborted transaction or a session lock never reaches the next user).
 */
export async function withConnection<T>(pool: pg.Pool, use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken ??= err;
  };
  client.on('error', onError);
  try {
    return await use(client);
  } catch (err) {
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken ?? false);
  }
}

/** SQLSTATEs and system codes a user meets, in words (the server's own message follows). */
const WORDS: Readonly<Record<string, string>> = {
  '28P01': 'the password was refused',
  '28000': 'the server refuses this user (pg_hba.conf)',
  '3D000': 'no such database',
  '25006': 'the role may not write (a read-only transaction: a read-only role or a standby)',
  '42501': 'the role lacks a privilege the store needs',
  '57P03': 'the server is starting or shutting down',
  '53300': 'the server has no connection to spare',
  ECONNREFUSED: 'nothing listens there (connection refused)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (yet)',
  ETIMEDOUT: 'no answer (timed out)',
  EHOSTUNREACH: 'the host is unreachable',
  ECONNRESET: 'the server closed the connection',
};

/** A DG_STORE error saying what failed against which store (the URL redacted), never a stack trace. */
export function storeError(err: unknown, display: string, doing: string): DriftguardError {
  if (err instanceof DriftguardError) return err;
  const code = (err as { code?: unknown })?.code;
  const words = typeof code === 'string' ? WORDS[code] : undefined;
  const message = errorMessage(err) || (typeof code === 'string' ? code : 'unknown error');
  const text = words === undefined ? message : `${words}: ${message}`;
  return new DriftguardError('DG_STORE', `cannot ${doing} the records store ${display}: ${text}`, { cause: err });
}
