/**
 * Keyed lists of custom resources, from the cluster's /openapi/v3, kept in a ListKeyIndex: loaded
 * at start and every `refreshMs` in the background, never awaited by a review. Until the first load
 * (or while the API server cannot be reached) custom resources' lists are compared by index, as
 * before; a failed refresh keeps the last good table. Only group-versions the built-in table does
 * not hold are fetched, and only documents whose hash changed since the last refresh.
 */
import type { Logger } from 'pino';
import { GENERATED_LIST_KEYS } from '../k8s/list-keys.generated.js';
import type { ListKeyIndex, ListKeyTable } from '../k8s/list-keys.js';
import type { KubeClient } from './kube.js';
import { fetchListKeys } from './openapi.js';

const DEFAULT_LIST_KEYS_REFRESH_MS = 10 * 60_000;

export interface CustomListKeysOptions {
  client: KubeClient;
  index: ListKeyIndex;
  logger: Logger;
  refreshMs?: number;
  /** Group-versions served by the built-in table, never fetched (default: those it was generated from). */
  builtinGroupVersions?: readonly string[];
}

export class CustomListKeys {
  private readonly opts: CustomListKeysOptions;
  private readonly builtin: ReadonlySet<string>;
  private readonly cache = new Map<string, ListKeyTable>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;

  constructor(opts: CustomListKeysOptions) {
    this.opts = opts;
    this.builtin = new Set(opts.builtinGroupVersions ?? GENERATED_LIST_KEYS.groupVersions);
  }

  /** Load now in the background and then every refreshMs; returns at once. */
  start(): void {
    void this.refresh();
    const every = this.opts.refreshMs ?? DEFAULT_LIST_KEYS_REFRESH_MS;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  /** One load; true when the table was replaced. Concurrent calls share one load. Never throws. */
  refresh(): Promise<boolean> {
    this.running ??= this.load().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async load(): Promise<boolean> {
    const { client, index, logger } = this.opts;
    try {
      const { table, groupVersions } = await fetchListKeys(client, { include: (gv) => !this.builtin.has(gv), cache: this.cache });
      index.setCustom(table);
      logger.info({ groupVersions: groupVersions.length, kinds: Object.keys(table).length }, 'custom resource list keys loaded');
      return true;
    } catch (err) {
      logger.warn(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'custom resource list keys not loaded (DG_CLUSTER_REQUEST); their lists are compared by index until the next refresh',
      );
      return false;
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
