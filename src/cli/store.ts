/**
 * `driftguard store migrate` and `driftguard store import FILES...`: the records store's schema,
 * and records files loaded into it (docs/store.md).
 */
import type { Command } from 'commander';
import { DriftguardError } from '../errors.js';
import { importRecords } from '../store/import.js';
import { migrate } from '../store/migrations.js';
import { dropExpiredPartitions } from '../store/write.js';
import { EXIT, write, type CliIO } from './io.js';
import { addStoreOptions, clusterName, storeUrl, withStore, type StoreFlags } from './store-flags.js';
import { parseDuration } from './time.js';

function requiredUrl(flags: StoreFlags): string {
  const url = storeUrl(flags);
  if (url === undefined)
    throw new DriftguardError('DG_USAGE', 'name the store: --store postgres://..., --store-url-file FILE or DRIFTGUARD_STORE_URL');
  return url;
}

/** `--store-retention`: a duration (400d, 8w), or 0 to keep everything. */
export function retentionMs(value: string | undefined): number {
  if (value === undefined || value === '0') return 0;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 86_400_000) {
    throw new DriftguardError('DG_USAGE', `--store-retention must be a duration of at least a day (400d, 8w) or 0, got ${value}`);
  }
  return ms;
}

async function storeMigrateCommand(flags: StoreFlags & { storeRetention?: string }, io: CliIO): Promise<number> {
  const url = requiredUrl(flags);
  const retention = retentionMs(flags.storeRetention);
  return withStore(
    url,
    'migrate',
    async (store) => {
      const { from, to } = await migrate(store.pool, store.display);
      write(
        io.stdout,
        from === to
          ? `${store.display}: schema at version ${to}, nothing to do`
          : `${store.display}: schema migrated from version ${from} to ${to}`,
      );
      if (retention > 0) {
        const dropped = await dropExpiredPartitions(store.pool, io.clock(), retention);
        if (dropped.length > 0) write(io.stdout, `dropped ${dropped.length} partition(s) past the retention: ${dropped.join(', ')}`);
      }
      return EXIT.OK;
    },
    false,
  );
}

async function storeImportCommand(files: string[], flags: StoreFlags, io: CliIO): Promise<number> {
  const url = requiredUrl(flags);
  if (files.length === 0) throw new DriftguardError('DG_USAGE', 'name the records files to import');
  const cluster = clusterName(flags.cluster);
  return withStore(url, 'import into', async (store) => {
    const s = await importRecords(store.pool, files, cluster === undefined ? {} : { cluster });
    write(
      io.stdout,
      `imported ${s.records} record(s) from ${s.files.length} file(s) into ${store.display}: ${s.inserted} new, ${s.records - s.inserted} already there${s.skipped > 0 ? `; ${s.skipped} line(s) that are not records skipped` : ''}`,
    );
    return EXIT.OK;
  });
}

export function registerStore(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const store = program.command('store').description('the PostgreSQL records store: schema migrations and imports (docs/store.md)');
  addStoreOptions(
    store
      .command('migrate')
      .description("bring the store's schema to this version (refuses a database a newer driftguard migrated)")
      .option('--store-retention <duration>', 'also drop monthly partitions older than this (e.g. 400d; 0 keeps all)'),
    'migrate',
  ).action(async (flags: StoreFlags & { storeRetention?: string }) => {
    setExit(await storeMigrateCommand(flags, io));
  });
  addStoreOptions(
    store
      .command('import')
      .description('load records files (JSON lines) into the store; importing a file again adds nothing')
      .argument('<files...>', 'records files, globs or directories (rotated siblings included), or a spool file')
      .option('--cluster <name>', 'stamp records that name no cluster with this one'),
    'import into',
  ).action(async (files: string[], flags: StoreFlags) => {
    setExit(await storeImportCommand(files, flags, io));
  });
}
