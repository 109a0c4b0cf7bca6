/**
 * `serve --reports`: the report loop built from serve's config, or nothing when reports are off.
 * The loop gets a client of its own, with a longer timeout than the admission path's lookups.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { KubeClient } from '../cluster/kube.js';
import { DriftguardError } from '../errors.js';
import type { PolicySet } from '../policy/set.js';
import { openStore } from '../store/connect.js';
import { queryLedger } from '../store/query.js';
import { ReportLoop, type ReportHistory, type ReportLoopConfig } from './loop.js';

export type ReportsConfig = Omit<ReportLoopConfig, 'identity'> & {
  /** This replica's name in the Lease; default the host name (the pod's name) and a random suffix. */
  identity?: string;
};

export interface ReportsDeps {
  /** serve's cluster: a kubeconfig path or "in-cluster". */
  cluster: string | undefined;
  logger: Logger;
  clock: () => Date;
  registry: Registry;
  policies: () => PolicySet;
  /** serve's records store (`--store`): a new leader loads the objects' records from it. */
  store?: { url: string; cluster?: string };
}

/** The objects' records from the store, by the query explain uses (store/query.ts), on a small pool of its own. */
function storeHistory(store: NonNullable<ReportsDeps['store']>, logger: Logger): ReportHistory {
  const db = openStore(store.url, {
    max: 2,
    applicationName: 'driftguard-reports',
    onIdleError: (err) => logger.debug({ err: { message: err.message } }, 'report loop: store connection lost'),
  });
  return {
    load: async (target) =>
      (await queryLedger(db.pool, { target, ...(store.cluster === undefined ? {} : { cluster: store.cluster }) }, db.display)).records,
    close: () => db.close(),
  };
}

export function startReports(config: ReportsConfig | undefined, deps: ReportsDeps): ReportLoop | undefined {
  if (config === undefined) return undefined;
  if (deps.cluster === undefined) throw new DriftguardError('DG_USAGE', '--reports needs a cluster: --kubeconfig FILE or --in-cluster');
  const { identity, ...rest } = config;
  const logger = deps.logger.child({ component: 'reports' });
  return new ReportLoop(
    { ...rest, identity: identity ?? `${hostname()}_${randomUUID().slice(0, 8)}` },
    {
      client: KubeClient.load(deps.cluster, { timeoutMs: 10_000 }),
      logger,
      clock: deps.clock,
      registry: deps.registry,
      policies: deps.policies,
      ...(deps.store === undefined ? {} : { history: storeHistory(deps.store, logger) }),
    },
  );
}
