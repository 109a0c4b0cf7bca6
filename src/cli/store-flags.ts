/**
 * What every command that talks to the records store shares: `--store URL` / `--store-url-file
 * FILE` / DRIFTGUARD_STORE_URL, `--cluster NAME`, and a store opened, checked and closed around one
 * command, its failures DG_STORE errors in words (exit 2), never a stack trace.
 */
import type { Command } from 'commander';
import { DriftguardError } from '../errors.js';
import { openStore, storeError, type Store } from '../store/connect.js';
import { checkSchema } from '../store/migrations.js';
import { resolveStoreUrl, STORE_URL_ENV } from '../store/url.js';

export interface StoreFlags {
  store?: string;
  storeUrlFile?: string;
  cluster?: string;
}

export function addStoreOptions(cmd: Command, what: string): Command {
  return cmd
    .option(
      '--store <url>',
      `${what} the PostgreSQL records store (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...; or ${STORE_URL_ENV})`,
    )
    .option('--store-url-file <file>', 'read the store URL from this file (a mounted Secret)');
}

/** The store URL the flags or the environment name; undefined when none does. Read when the command runs, never at import. */
export function storeUrl(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return resolveStoreUrl({
    ...(flags.store === undefined ? {} : { flag: flags.store }),
    ...(flags.storeUrlFile === undefined ? {} : { file: flags.storeUrlFile }),
    ...(env[STORE_URL_ENV] === undefined ? {} : { env: env[STORE_URL_ENV] }),
  });
}

/** A `--cluster` value: a name as records carry it (no spaces, not empty). */
export function clusterName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/.test(value)) {
    throw new DriftguardError(
      'DG_USAGE',
      `--cluster must be a name of letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Run `fn` with the store open: connected and at this build's schema version (unless `check` is
 * false, for migrate), closed afterwards whatever happens.
 */
export async function withStore<T>(url: string, doing: string, fn: (store: Store) => Promise<T>, check = true): Promise<T> {
  const store = openStore(url, { applicationName: 'driftguard-cli' });
  try {
    if (check) await checkSchema(store.pool, store.display);
    return await fn(store);
  } catch (err) {
    throw storeError(err, store.display, doing);
  } finally {
    await store.close();
  }
}

export interface ServeStoreFlags extends StoreFlags {
  storeMigrate?: boolean;
  storeSpool?: string;
  storeSpoolMaxBytes?: string;
  storeRetention?: string;
}

/** serve's store flags (beside --store, --store-url-file and --cluster, added by the caller). */
export function addServeStoreOptions(cmd: Command): Command {
  return addStoreOptions(cmd, 'also ship every record to')
    .option('--store-migrate', "run the store's schema migrations at start")
    .option(
      '--store-spool <file>',
      'where records wait while the store is unreachable (not a *.jsonl name, so a directory of records files never reads it twice)',
      'records/driftguard.store-spool',
    )
    .option('--store-spool-max-bytes <size>', 'bound of the spool; records past it are in the records file only', '256Mi')
    .option('--store-retention <duration>', 'drop monthly partitions older than this (0 keeps everything)', '400d')
    .option('--cluster <name>', 'stamp every record with this cluster name (one store serves a fleet; readers take --cluster)');
}
