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
import { validate, type AdmissionDeps } from './admission/handler.js';
import { CustomListKeys } from './cluster/custom-list-keys.js';
import { fanOut, type Hooks } from './hooks/hooks.js';
import { KubeClient } from './cluster/kube.js';
import { ListKeyIndex } from './k8s/list-keys.js';
import { clusterMarksLookup, ParentResolver } from './cluster/parents.js';
import { RegistrationKeeper } from './install/registration-sync.js';
import { createMonitoring, type Monitoring, type MonitoringConfig } from './monitoring/setup.js';
import { observe, observerMalformed, OBSERVER_ROUTES } from './observe/observer.js';
import { DriftguardError, systemErrorText } from './errors.js';
import { loadPolicies } from './policy/load.js';
import type { PolicySet } from './policy/set.js';
import type { ObserveMode } from './policy/schema.js';
import type { RotationOptions } from './records/rotate.js';
import { openRecordSink, type RecordSink } from './records/sink.js';
import { createAdapter } from './server/app.js';
import { ReviewMemo } from './server/review-memo.js';
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
import { ensureCertDir, readTls, type TlsFiles, type TlsMaterial } from './server/tls.js';
import { startReports, type ReportsConfig } from './reports/start.js';
import { registerStoreMetrics } from './metrics/store-metrics.js';
import { openStore } from './store/connect.js';
import { shippingSink } from './store/records-sink.js';
import { Shipper } from './store/shipper.js';
import { startAuditWebhook, type AuditWebhook } from './server/audit-webhook.js';
import { AuditConverter } from './auditlog/convert.js';
import { readFile } from 'node:fs/promises';

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
  /** How often custom resources' list keys are re-read from the cluster (default 10 minutes). */
  listKeysRefreshMs?: number;
  /** Keep the webhook registration in step with the policies (needs a cluster); otherwise it is only checked. */
  manageWebhooks?: boolean;
  /** `none`: prevention only; the entry observer answers allowed and records nothing. Default `full`. */
  observe?: ObserveMode;
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
  /** Findings as report objects (serve --reports; needs a cluster). Omitted = off. */
  reports?: ReportsConfig;
  /** Stamp every record with this cluster name (`serve --cluster`): one store serves a fleet. */
  clusterName?: string;
  /** Also ship every record to a PostgreSQL records store, asynchronously (docs/store.md). */
  store?: ServeStoreConfig;
  /** The API server's audit webhook backend posts here (docs/audit-log.md): its own port and path. */
  auditWebhook?: AuditWebhookConfig;
}

interface AuditWebhookConfig {
  port: number;
  path: string;
  /** Mutual TLS: clients need a certificate this CA (PEM file) signed. */
  clientCa?: string;
  /** Or a bearer token, read from this file. */
  tokenFile?: string;
  /** Events queued at most. */
  queue?: number;
  /** Users whose writes count as GitOps beyond the policies' own. */
  gitopsUsers?: string[];
}

interface ServeStoreConfig {
  url: string;
  /** Run the schema migrations at start (`--store-migrate`); otherwise a store at another version is not written. */
  migrate?: boolean;
  /** Where records wait while the store is unreachable, and its bound in bytes. */
  spoolFile: string;
  spoolMaxBytes: number;
  /** Drop monthly partitions older than this; 0 keeps everything. */
  retentionMs: number;
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
  /** Keyed lists by kind: built-in, plus custom resources when a cluster is configured. */
  listKeys: ListKeyIndex;
  /** Load the custom resources' list keys from the cluster now (false: no cluster, or it failed). */
  refreshListKeys(): Promise<boolean>;
  /** Metrics registry, Event and notification queues, the metrics port's URL. */
  monitoring: Monitoring;
  /** The registration keeper when a cluster is configured: its last coverage check, and a sync on demand. */
  registration: RegistrationKeeper | undefined;
  /** Re-read certificate or policies now (what a file change triggers). */
  reload: { certificate(): Promise<ReloadOutcome>; policies(): Promise<ReloadOutcome> };
  /** The audit webhook endpoint, when configured. */
  auditWebhook: AuditWebhook | undefined;
  /** Readiness off, in-flight requests finished, records flushed, sockets closed. Idempotent. */
  shutdown(): Promise<void>;
}

/** The serving certificate and key: the files given, or a development pair made in the cert dir. */
async function serving(config: ServeConfig, now: Date, logger: Logger): Promise<{ tlsFiles: TlsFiles; tls: TlsMaterial }> {
  let tlsFiles: TlsFiles;
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    tlsFiles = { certFile: config.tlsCert, keyFile: config.tlsKey };
  } else {
    const dir = await ensureCertDir(config.certDir, { service: config.service, namespace: config.namespace, now });
    if (dir.generated) logger.info({ dir: config.certDir, ca: dir.caFile }, 'generated a development CA and serving certificate');
    tlsFiles = { certFile: dir.certFile, keyFile: dir.keyFile };
  }
  if (config.clientCa !== undefined) tlsFiles.clientCaFile = config.clientCa;
  return { tlsFiles, tls: await readTls(tlsFiles) };
}

/**
 * The store's shipper, started: the spool opened and the store tried once (a failure is logged, as
 * its DG_ code and words, and records wait in the spool). undefined without a store.
 */
async function startShipper(
  config: ServeConfig,
  deps: { logger: Logger; clock: () => Date; registry: Registry },
): Promise<Shipper | undefined> {
  const sc = config.store;
  if (sc === undefined) return undefined;
  const { logger } = deps;
  // Assigned once the shipper exists (its gauges read it); events before that are not counted.
  const meters: { meter?: ReturnType<typeof registerStoreMetrics> } = {};
  let failingSince: number | undefined;
  const store = openStore(sc.url, {
    onIdleError: (err) => logger.debug({ err: { message: err.message } }, 'records store connection lost; the next batch reconnects'),
  });
  const shipper = new Shipper({
    store,
    spoolFile: sc.spoolFile,
    spoolMaxBytes: sc.spoolMaxBytes,
    clock: deps.clock,
    ...(sc.migrate === true ? { migrate: true } : {}),
    retentionMs: sc.retentionMs,
    events: {
      onShipped: (n) => meters.meter?.shipped(n),
      onFailure: (err) => {
        meters.meter?.failed();
        // One error line when the store first fails, then one a minute while it keeps failing.
        const now = Date.now();
        if (failingSince === undefined || now - failingSince >= 60_000) {
          failingSince = now;
          logger.error(
            { code: (err as { code?: string }).code, store: store.display, spool: sc.spoolFile },
            `${err.message}; records wait in the spool`,
          );
        }
      },
      onRecovered: () => {
        failingSince = undefined;
        logger.info({ store: store.display }, 'records store reachable again; draining the spool');
      },
      onDropped: (n) => {
        meters.meter?.dropped(n);
        logger.error(
          { dropped: n, spool: sc.spoolFile },
          'records spool full: records kept in the records file only (driftguard store import loads them)',
        );
      },
      onPruned: (partitions) => logger.info({ partitions }, 'records store: dropped monthly partitions past the retention'),
    },
  });
  meters.meter = registerStoreMetrics(deps.registry, {
    spoolBytes: () => shipper.spoolBytes(),
    lagSeconds: () => shipper.lagSeconds(),
    spoolMaxBytes: sc.spoolMaxBytes,
  });
  try {
    const started = await shipper.start();
    if (started.state === 'reachable') logger.info({ store: store.display }, 'records store reachable');
  } catch (err) {
    await shipper.close();
    throw new DriftguardError('DG_STORE', `cannot open the records spool ${sc.spoolFile}: ${systemErrorText(err)}`, { cause: err });
  }
  return shipper;
}

/** The records sink: the one the caller gives, else opened from config.records (checked before anything is written). */
async function openRecords(config: ServeConfig, given: RecordSink | undefined, logger: Logger): Promise<RecordSink> {
  return (
    given ??
    (await openRecordSink({
      destination: config.records,
      ...(config.recordsRotation === undefined ? {} : { rotation: config.recordsRotation }),
      onRotationError: (err) =>
        logger.error(
          { err: { message: err.message }, records: config.records },
          'records rotation failed; still writing to the current file',
        ),
    }))
  );
}

/** What serve keeps of the cluster, when one is configured: parent lookups, the registration keeper, custom resources' list keys. */
interface ClusterParts {
  parents: ParentResolver;
  keeper: RegistrationKeeper | undefined;
  listKeys: ListKeyIndex;
  customKeys: CustomListKeys | undefined;
}

function clusterParts(config: ServeConfig, monitoring: Monitoring, logger: Logger): ClusterParts {
  const cluster = config.cluster === undefined ? undefined : KubeClient.load(config.cluster, { timeoutMs: 1_500 });
  const parents = new ParentResolver({ logger, ...(cluster === undefined ? {} : { lookup: clusterMarksLookup(cluster) }) });
  if (config.manageWebhooks === true && config.cluster === undefined)
    throw new DriftguardError('DG_USAGE', '--manage-webhooks needs a cluster: --kubeconfig FILE or --in-cluster');
  const keeper =
    config.cluster === undefined
      ? undefined
      : new RegistrationKeeper({
          client: KubeClient.load(config.cluster, { timeoutMs: 5_000 }),
          logger,
          manage: config.manageWebhooks === true,
          ...(config.observe === undefined ? {} : { observe: config.observe }),
          onGaps: (gaps) => monitoring.metrics.coverageGaps.set(gaps.length),
          onUpdate: (configuration) => monitoring.metrics.registrationUpdates.inc({ configuration }),
        });
  const listKeys = new ListKeyIndex();
  // Custom resources' keyed lists: loaded in the background, never on a review's path.
  const customKeys =
    cluster === undefined
      ? undefined
      : new CustomListKeys({
          client: KubeClient.load(config.cluster!, { timeoutMs: 10_000 }),
          index: listKeys,
          logger,
          ...(config.listKeysRefreshMs === undefined ? {} : { refreshMs: config.listKeysRefreshMs }),
        });
  return { parents, keeper, listKeys, customKeys };
}

/** The review routes, probes and metrics over the admission dependencies (server/app.ts). */
function adapterFor(
  admission: AdmissionDeps,
  monitoring: Monitoring,
  tls: TlsMaterial,
  state: { ready: () => boolean; keeper: () => RegistrationKeeper | undefined; warnings: () => string[] },
  logger: Logger,
  install: ObserveMode | undefined,
): ReturnType<typeof createAdapter> {
  return createAdapter({
    logger,
    ready: state.ready,
    readyWarnings: () => [...(state.keeper()?.gaps() ?? []).map((g) => `policy coverage gap: ${g.message}`), ...state.warnings()],
    reviewRoutes: {
      '/validate': async (request) => (await validate(request, admission)).response,
      // Mutating observers for the change ledger: always allowed, never a patch.
      [OBSERVER_ROUTES.entry]: (request) => observe('entry', request, admission, install),
      // Registered only by earlier installs (src/install/webhooks.ts, OBSERVE_EXIT_NAME): still answered.
      [OBSERVER_ROUTES.exit]: (request) => observe('exit', request, admission, install),
    },
    metrics: () => monitoring.exposition(),
    timeRequest: () => monitoring.metrics.requestTimer(),
    ...(tls.clientCa === undefined ? {} : { authorize: requireClientCertificate }),
    memo: {
      cache: new ReviewMemo({ onReuse: () => monitoring.metrics.reviewParsesReused.inc() }),
      remember: [OBSERVER_ROUTES.entry, OBSERVER_ROUTES.exit],
    },
    onMalformed: { [OBSERVER_ROUTES.entry]: observerMalformed, [OBSERVER_ROUTES.exit]: observerMalformed },
  });
}

const TLS_CONTEXT_OPTIONS = { minVersion: 'TLSv1.2' } as const;

/** The HTTPS server with its timeouts, drained on shutdown; client errors are logged and their sockets closed. */
function httpsServer(
  config: ServeConfig,
  tls: TlsMaterial,
  listener: ReturnType<typeof createAdapter>['listener'],
  logger: Logger,
): { server: https.Server; drainer: ReturnType<typeof drainable> } {
  const server = https.createServer(
    {
      cert: tls.cert,
      key: tls.key,
      // Verified, but refused per route (server/client-auth.ts): probes come without a certificate.
      ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }),
      ...TLS_CONTEXT_OPTIONS,
      // A client gets as long for its TLS handshake as for its headers (Node's default is 120 s).
      handshakeTimeout: config.timeouts.headersMs,
      // Node enforces headersTimeout and requestTimeout only when it checks, every 30 s by default:
      // a slow client kept its socket for up to 30 s past its deadline (test/hardness/slow-clients).
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(config.timeouts.headersMs / 4))),
    },
    listener,
  );
  server.headersTimeout = config.timeouts.headersMs;
  server.requestTimeout = config.timeouts.requestMs;
  server.keepAliveTimeout = config.timeouts.keepAliveMs;
  const drainer = drainable(server);
  server.on('clientError', (err, socket) => {
    logger.debug({ err: { message: err.message } }, 'client error');
    socket.destroy();
  });
  return { server, drainer };
}

/** Listen on config.host:config.port; a DG_LISTEN error when it cannot. */
function listen(server: https.Server, config: ServeConfig): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      reject(new DriftguardError('DG_LISTEN', `cannot listen on ${config.host}:${config.port}: ${systemErrorText(err)}`, { cause: err }));
    };
    server.once('error', failed);
    server.listen(config.port, config.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Watches of the certificate's and the policies' directories (none when reload is off). */
async function watchFiles(
  config: ServeConfig,
  tlsFiles: TlsFiles,
  check: { certificate: () => Promise<unknown>; policies: () => Promise<unknown> },
  logger: Logger,
): Promise<Watch[]> {
  const reload = config.reload ?? DEFAULT_RELOAD;
  if (reload === false) return [];
  const tlsPaths = [tlsFiles.certFile, tlsFiles.keyFile, ...(tlsFiles.clientCaFile === undefined ? [] : [tlsFiles.clientCaFile])];
  return [
    watchDirectories(await watchedDirectories(tlsPaths), { ...reload, logger, what: 'certificate' }, check.certificate),
    watchDirectories(await watchedDirectories(config.policies), { ...reload, logger, what: 'policy' }, check.policies),
  ];
}

/** The URL the server answers on: a bracketed IPv6 host, loopback for 0.0.0.0. */
function serverUrl(config: ServeConfig, port: number): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  return `https://${host}:${port}`;
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
  // Off the admission path: every record also goes to the report loop's store (src/reports/).
  const reports = startReports(config.reports, {
    cluster: config.cluster,
    logger,
    clock,
    registry: monitoring.registry,
    policies: () => current,
    // A new leader reads the records every replica shipped (docs/reports.md).
    ...(config.store === undefined
      ? {}
      : { store: { url: config.store.url, ...(config.clusterName === undefined ? {} : { cluster: config.clusterName }) } }),
  });
  const hooks = fanOut(logger, [
    monitoring.hooks,
    ...(deps.hooks === undefined ? [] : [deps.hooks]),
    ...(reports === undefined ? [] : [reports.hooks]),
  ]);

  let current = await loadPolicies(config.policies);
  // Set once the cluster parts are built; a policy reload syncs the registration through it.
  let keeper: RegistrationKeeper | undefined = undefined;
  logger.info({ policies: current.policies.map((p) => p.name), files: current.files.length }, 'policies loaded');
  hooks.onPolicyLoad({ ok: true, policies: current.policies.length });
  const policyReloader = new PolicyReloader({
    targets: config.policies,
    current: () => current,
    swap: (set) => {
      current = set;
      void keeper?.sync(set.policies.map((p) => p.definition));
    },
    logger,
    onLoad: (info) => hooks.onPolicyLoad(info),
  });
  await policyReloader.prime();

  // Every input is checked before anything is written: the records destination before a
  // development certificate is generated.
  const baseRecords = await openRecords(config, deps.records, logger);
  // Ready only once the store answered or the spool is in use (docs/store.md).
  const shipper = await startShipper(config, { logger, clock, registry: monitoring.registry }).catch(async (err: unknown) => {
    await baseRecords.close();
    throw err;
  });
  const records =
    config.clusterName === undefined && shipper === undefined
      ? baseRecords
      : shippingSink(baseRecords, {
          ...(config.clusterName === undefined ? {} : { cluster: config.clusterName }),
          ...(shipper === undefined ? {} : { shipper }),
        });
  const { tlsFiles, tls } = await serving(config, clock(), logger).catch(async (err: unknown) => {
    await records.close();
    await shipper?.close();
    throw err;
  });
  hooks.onCertificateLoad({ notAfter: new Date(new X509Certificate(tls.cert).validTo) });

  const parts = clusterParts(config, monitoring, logger);
  const { parents, listKeys, customKeys } = parts;
  keeper = parts.keeper;
  // Off the request path: the server starts serving while the registration is read and updated.
  void keeper?.sync(current.policies.map((p) => p.definition));
  customKeys?.start();

  let ready = false;
  const admission: AdmissionDeps = {
    policies: () => current,
    parents,
    records: reports?.tee(records) ?? records,
    clock,
    logger,
    listKeys,
    hooks,
  };
  const adapter = adapterFor(
    admission,
    monitoring,
    tls,
    { ready: () => ready, keeper: () => keeper, warnings: () => reports?.warnings() ?? [] },
    logger,
    config.observe,
  );
  const { server, drainer } = httpsServer(config, tls, adapter.listener, logger);
  await listen(server, config).catch(async (err: unknown) => {
    await records.close();
    await shipper?.close();
    throw err;
  });
  await monitoring.listen().catch(async (err: unknown) => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const certificates = new CertificateReloader({
    files: tlsFiles,
    initial: tls,
    server,
    contextOptions: TLS_CONTEXT_OPTIONS,
    logger,
    onLoad: (info) => hooks.onCertificateLoad(info),
  });
  const watches = await watchFiles(
    config,
    tlsFiles,
    { certificate: () => certificates.check(), policies: () => policyReloader.check() },
    logger,
  );

  const auditWebhook =
    config.auditWebhook === undefined
      ? undefined
      : await openAuditWebhook(config, config.auditWebhook, tls, { records, logger, listKeys, policies: () => current, monitoring });

  ready = true;
  reports?.start();
  const url = serverUrl(config, port);
  logger.info(
    { url, port, host: config.host, policies: current.policies.length, records: config.records, cluster: config.cluster ?? 'none' },
    'driftguard serving',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    records,
    policies: () => current,
    swapPolicies(set) {
      current = set;
    },
    parents,
    listKeys,
    refreshListKeys: () => customKeys?.refresh() ?? Promise.resolve(false),
    monitoring,
    registration: keeper,
    reload: { certificate: () => certificates.check(), policies: () => policyReloader.check() },
    auditWebhook,
    shutdown() {
      closing ??= (async () => {
        ready = false;
        keeper?.stop();
        for (const w of watches) w.close();
        customKeys?.close();
        await drainer.drain(config.shutdownGraceMs);
        // Audit events already accepted are turned into records before the sink closes.
        await auditWebhook?.close(config.shutdownGraceMs);
        await reports?.close(Math.min(config.shutdownGraceMs, 5_000));
        await monitoring.close();
        await records.close();
        // After the records file: what is still queued goes to the store, or to the spool for the next start.
        await shipper?.close();
        logger.info('driftguard stopped; records flushed');
      })();
      return closing;
    },
  };
}

/** The audit webhook endpoint on its own port, with the serving certificate; GitOps as the policies name it. */
async function openAuditWebhook(
  config: ServeConfig,
  audit: AuditWebhookConfig,
  tls: TlsMaterial,
  deps: { records: RecordSink; logger: Logger; listKeys: ListKeyIndex; policies: () => PolicySet; monitoring: Monitoring },
): Promise<AuditWebhook> {
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new DriftguardError('DG_USAGE', `cannot read ${what} ${file}: ${systemErrorText(err)}`, { cause: err });
    }
  };
  const token = audit.tokenFile === undefined ? undefined : (await read(audit.tokenFile, '--audit-webhook-token-file')).trim();
  const clientCa = audit.clientCa === undefined ? undefined : await read(audit.clientCa, '--audit-webhook-client-ca');
  const extra = new Set(audit.gitopsUsers ?? []);
  const converter = new AuditConverter({
    // The policies' GitOps actors as they are now (a reload applies to the next event), and the users named.
    gitops: [
      { description: "the policies' GitOps actors", matches: (u) => deps.policies().gitops.some((m) => m.matches(u)) },
      { description: 'GitOps users', matches: (u) => extra.has(u.username) },
    ],
    listKeys: deps.listKeys,
  });
  const started: { hook?: AuditWebhook } = {};
  const meter = deps.monitoring.metrics.auditMeter(() => started.hook?.queued() ?? 0);
  const hook = await startAuditWebhook({
    host: config.host,
    port: audit.port,
    path: audit.path,
    cert: tls.cert,
    key: tls.key,
    ...(clientCa === undefined ? {} : { clientCa }),
    ...(token === undefined ? {} : { token }),
    records: deps.records,
    converter,
    logger: deps.logger,
    ...(audit.queue === undefined ? {} : { capacity: audit.queue }),
    meter,
  });
  started.hook = hook;
  deps.logger.info(
    { url: hook.url, auth: clientCa !== undefined ? 'mutual TLS' : token !== undefined ? 'bearer token' : 'none' },
    'audit webhook listening',
  );
  return hook;
}
