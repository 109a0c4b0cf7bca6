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
import { ReportLoop, type ReportLoopConfig } from './loop.js';

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
}

export function startReports(config: ReportsConfig | undefined, deps: ReportsDeps): ReportLoop | undefined {
  if (config === undefined) return undefined;
  if (deps.cluster === undefined) throw new DriftguardError('DG_USAGE', '--reports needs a cluster: --kubeconfig FILE or --in-cluster');
  const { identity, ...rest } = config;
  return new ReportLoop(
    { ...rest, identity: identity ?? `${hostname()}_${randomUUID().slice(0, 8)}` },
    {
      client: KubeClient.load(deps.cluster, { timeoutMs: 10_000 }),
      logger: deps.logger.child({ component: 'reports' }),
      clock: deps.clock,
      registry: deps.registry,
      policies: deps.policies,
    },
  );
}
