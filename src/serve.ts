/**
 * `driftguard serve`, as a function: wires policies, records, certificates, the cluster and the HTTP
 * adapter together from a config, with every dependency (logger, clock) passed in. Tests start it
 * in-process on an ephemeral port; the CLI adds signal handling.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { validate } from './admission/handler.js';
import { fanOut, type Hooks } from './hooks/hooks.js';
import { KubeClient } from './cluster/kube.js';
import { clusterMarksLookup, ParentResolver } from './cluster/parents.js';
import { createMonitoring, type Monitoring, type MonitoringConfig } from './monitoring/setup.js';
import { observe, observerMalformed, OBSERVER_ROUTES } from './observe/observer.js';
import { loadPolicies } from './policy/load.js';
import type { PolicySet } from './policy/set.js';
import type { RotationOptions } from './records/rotate.js';
import { openRecordSink, type RecordSink } from './records/sink.js';
import { createAdapter } from './server/app.js';
import { requireClientCertificate } from './server/client-auth.js';
import { drainable } from './server/drain.js';
import {
  CertificateReloader,
  DEFAULT_RELOAD,
  PolicyReloader,
  watchDirectories,
  watchedDirectories,
  type ReloadOptions,
  type ReloadOutcome,
  type Watch,
} from './server/reload.js';
import { ensureCertDir, readTls, type TlsFiles } from './server/tls.js';

export interface ServeConfig {
  host: string;
  port: number;
  policies: string[];
  /** Directory with tls.crt/tls.key (created with a dev CA when missing); ignored when tlsCert/tlsKey are set. */
  certDir: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  /** Records file, or "-" for stdout. */
  records: string;
  /** Rotate the records file by size (NAME.1, NAME.2, ...); omitted = never rotate. */
  recordsRotation?: RotationOptions;
  /** A kubeconfig path, "in-cluster", or undefined for no cluster. */
  cluster?: string;
  /** The Service the generated certificate is for. */
  service: string;
  namespace: string;
  timeouts: ServerTimeouts;
  /** Grace for in-flight requests on shutdown before connections are cut. */
  shutdownGraceMs: number;
  /** Metrics port, Events, notification channels (src/monitoring/setup.ts). */
  monitoring?: MonitoringConfig;
  /** Hot reload of certificate and policies when their files change; false turns watching off. Default DEFAULT_RELOAD. */
  reload?: ReloadOptions | false;
}

export interface ServerTimeouts {
  /** A client must finish its headers within this (slowloris). */
  headersMs: number;
  /** And its whole request within this; the API server gives a webhook at most 30 s. */
  requestMs: number;
  /** Idle keep-alive connections (the API server reuses them). */
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 30_000 };

export interface ServeDeps {
  logger: Logger;
  clock: () => Date;
  /** The caller's own hooks (capture, tests), called after monitoring's. */
  hooks?: Hooks;
  /** Override the record sink (tests); otherwise opened from config.records. */
  records?: RecordSink;
  /** Where metrics are registered; a fresh Registry per server otherwise. */
  registry?: Registry;
}

export interface RunningServer {
  url: string;
  port: number;
  server: https.Server;
  records: RecordSink;
  policies(): PolicySet;
  /** Replace the policy snapshot (one assignment: requests see the old or the new set, never a mix). */
  swapPolicies(set: PolicySet): void;
  parents: ParentResolver;
  /** Metrics registry, Event and notification queues, the metrics port's URL. */
  monitoring: Monitoring;
  /** Re-read certificate or policies now (what a file change triggers). */
  reload: { certificate(): Promise<ReloadOutcome>; policies(): Promise<ReloadOutcome> };
  /** Readiness off, in-flight requests finished, records flushed, sockets closed. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startServer(config: ServeConfig, deps: ServeDeps): Promise<RunningServer> {
  const { logger, clock } = deps;
  // Metrics, Events and notifications listen on the same hooks as the caller's (never failing a request).
  const monitoring = createMonitoring(config.monitoring ?? {}, {
    logger,
    clock,
    host: config.host,
    policies: () => current,
    ...(config.cluster === undefined ? {} : { cluster: config.cluster }),
    ...(deps.registry === undefined ? {} : { registry: deps.registry }),
  });
  deps = { ...deps, hooks: fanOut(logger, deps.hooks === undefined ? [monitoring.hooks] : [monitoring.hooks, deps.hooks]) };
  let current = await loadPolicies(config.policies);
  logger.info({ policies: current.policies.map((p) => p.name), files: current.files.length }, 'policies loaded');
  deps.hooks?.onPolicyLoad?.({ ok: true, policies: current.policies.length });
  const policyReloader = new PolicyReloader({
    targets: config.policies,
    current: () => current,
    swap: (set) => {
      current = set;
    },
    logger,
    onLoad: (info) => deps.hooks?.onPolicyLoad?.(info),
  });
  await policyReloader.prime();

  let tlsFiles: TlsFiles;
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    tlsFiles = { certFile: config.tlsCert, keyFile: config.tlsKey };
  } else {
    const dir = await ensureCertDir(config.certDir, { service: config.service, namespace: config.namespace, now: clock() });
    if (dir.generated) logger.info({ dir: config.certDir, ca: dir.caFile }, 'generated a development CA and serving certificate');
    tlsFiles = { certFile: dir.certFile, keyFile: dir.keyFile };
  }
  if (config.clientCa !== undefined) tlsFiles.clientCaFile = config.clientCa;
  const tls = await readTls(tlsFiles);
  deps.hooks?.onCertificateLoad?.({ notAfter: new Date(new X509Certificate(tls.cert).validTo) });

  const records =
    deps.records ??
    (await openRecordSink({
      destination: config.records,
      ...(config.recordsRotation === undefined ? {} : { rotation: config.recordsRotation }),
      onRotationError: (err) =>
        logger.error(
          { err: { message: err.message }, records: config.records },
          'records rotation failed; still writing to the current file',
        ),
    }));
  const cluster = config.cluster === undefined ? undefined : KubeClient.load(config.cluster, { timeoutMs: 1_500 });
  const parents = new ParentResolver({ logger, ...(cluster === undefined ? {} : { lookup: clusterMarksLookup(cluster) }) });

  let ready = false;
  const admission = {
    policies: () => current,
    parents,
    records,
    clock,
    logger,
    ...(deps.hooks === undefined ? {} : { hooks: deps.hooks }),
  };
  const adapter = createAdapter({
    logger,
    ready: () => ready,
    reviewRoutes: {
      '/validate': async (request) => (await validate(request, admission)).response,
      // Mutating observers for the change ledger: always allowed, never a patch.
      [OBSERVER_ROUTES.entry]: (request) => observe('entry', request, admission),
      [OBSERVER_ROUTES.exit]: (request) => observe('exit', request, admission),
    },
    metrics: () => monitoring.exposition(),
    timeRequest: () => monitoring.metrics.requestTimer(),
    ...(tls.clientCa === undefined ? {} : { authorize: requireClientCertificate }),
    onMalformed: { [OBSERVER_ROUTES.entry]: observerMalformed, [OBSERVER_ROUTES.exit]: observerMalformed },
  });

  const contextOptions = { minVersion: 'TLSv1.2' } as const;
  const server = https.createServer(
    {
      cert: tls.cert,
      key: tls.key,
      // Verified, but refused per route (server/client-auth.ts): probes come without a certificate.
      ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }),
      ...contextOptions,
      // A client gets as long for its TLS handshake as for its headers (Node's default is 120 s).
      handshakeTimeout: config.timeouts.headersMs,
      // Node enforces headersTimeout and requestTimeout only when it checks, every 30 s by default:
      // a slow client kept its socket for up to 30 s past its deadline (test/hardness/slow-clients).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.timeouts.headersMs / 4))),
    },
    adapter.listener,
  );
  server.headersTimeout = config.timeouts.headersMs;
  server.requestTimeout = config.timeouts.requestMs;
  server.keepAliveTimeout = config.timeouts.keepAliveMs;
  const drainer = drainable(server);
  server.on('clientError', (err, socket) => {
    logger.debug({ err: { message: err.message } }, 'client error');
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await monitoring.listen().catch(async (err: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const certificates = new CertificateReloader({
    files: tlsFiles,
    initial: tls,
    server,
    contextOptions,
    logger,
    onLoad: (info) => deps.hooks?.onCertificateLoad?.(info),
  });
  const watches: Watch[] = [];
  const reload = config.reload ?? DEFAULT_RELOAD;
  if (reload !== false) {
    const tlsPaths = [tlsFiles.certFile, tlsFiles.keyFile, ...(tlsFiles.clientCaFile === undefined ? [] : [tlsFiles.clientCaFile])];
    watches.push(
      watchDirectories(await watchedDirectories(tlsPaths), { ...reload, logger, what: 'certificate' }, () => certificates.check()),
    );
    watches.push(
      watchDirectories(await watchedDirectories(config.policies), { ...reload, logger, what: 'policy' }, () => policyReloader.check()),
    );
  }

  ready = true;
  logger.info({ port, host: config.host, records: config.records, cluster: config.cluster ?? 'none' }, 'driftguard serving');

  let closing: Promise<void> | undefined;
  return {
    url: `https://${host}:${port}`,
    port,
    server,
    records,
    policies: () => current,
    swapPolicies(set) {
      current = set;
    },
    parents,
    monitoring,
    reload: { certificate: () => certificates.check(), policies: () => policyReloader.check() },
    shutdown() {
      closing ??= (async () => {
        ready = false;
        for (const w of watches) w.close();
        await drainer.drain(config.shutdownGraceMs);
        await monitoring.close();
        await records.close();
        logger.info('driftguard stopped; records flushed');
      })();
      return closing;
    },
  };
}
