/** `driftguard serve`: flags -> ServeConfig, then signals -> graceful shutdown. */
import type { Command } from 'commander';
import { openCapture } from '../capture/writer.js';
import { DriftguardError } from '../errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../logger.js';
import type { MonitoringConfig } from '../monitoring/setup.js';
import { checkRecordsDestination } from '../records/sink.js';
import { DEFAULT_REPORT_LIMITS } from '../reports/compute.js';
import { DEFAULT_MAX_REPORTS, DEFAULT_WRITES_PER_SECOND } from '../reports/loop.js';
import { DEFAULT_TIMEOUTS, startServer, type ServeConfig } from '../serve.js';
import type { CliIO } from './io.js';
import { oneOf, wholeNumber } from './flags.js';
import { addServeStoreOptions, clusterName, storeUrl, type ServeStoreFlags } from './store-flags.js';
import { retentionMs } from './store.js';
import { observeMode } from './manifests.js';

interface ServeFlags extends ServeStoreFlags {
  port: string;
  host: string;
  policies: string[];
  certDir: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  records: string;
  auditWebhook?: boolean;
  auditWebhookPort?: string;
  auditWebhookPath?: string;
  auditWebhookClientCa?: string;
  auditWebhookTokenFile?: string;
  auditWebhookQueue?: string;
  recordsMaxBytes: string;
  recordsMaxFiles: string;
  logLevel: string;
  kubeconfig?: string;
  inCluster?: boolean;
  manageWebhooks?: boolean;
  observe?: string;
  service: string;
  namespace: string;
  shutdownGrace: string;
  metricsPort?: string;
  notifyWebhook?: string[];
  notifySlack?: string[];
  events?: boolean;
  captureDir?: string;
  captureMaxFiles: string;
  captureDryRuns?: boolean;
  exitWithParent?: boolean;
  reports?: string;
  reportsMax?: string;
  reportsMaxResults?: string;
  reportsWritesPerSecond?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function webhookUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DriftguardError('DG_USAGE', `${flag} takes an http(s) URL`);
  }
  // Never echo the URL: a Slack webhook's path is its credential.
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new DriftguardError('DG_USAGE', `${flag} takes an http(s) URL, got a ${url.protocol} URL`);
  return value;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 1e3, Ki: 1024, M: 1e6, Mi: 1024 ** 2, G: 1e9, Gi: 1024 ** 3 };

/** A byte size as Kubernetes quantities write it: 1048576, 100Mi, 50M, 1Gi. */
export function parseByteSize(value: string, flag: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(value.trim());
  const n = m === null ? Number.NaN : Number(m[1]) * SIZE_UNITS[m[2] ?? '']!;
  if (!Number.isSafeInteger(n))
    throw new DriftguardError('DG_USAGE', `${flag} must be a size such as 104857600, 100Mi or 50M, got ${value}`);
  return n;
}

export function serveConfig(flags: ServeFlags): ServeConfig {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    throw new DriftguardError('DG_USAGE', '--tls-cert and --tls-key go together');
  if (flags.kubeconfig !== undefined && flags.inCluster === true)
    throw new DriftguardError('DG_USAGE', '--kubeconfig and --in-cluster exclude each other');
  const config: ServeConfig = {
    host: flags.host,
    port: wholeNumber(flags.port, '--port', 0, 65535),
    policies: flags.policies,
    certDir: flags.certDir,
    records: flags.records,
    service: flags.service,
    namespace: flags.namespace,
    timeouts: DEFAULT_TIMEOUTS,
    shutdownGraceMs: wholeNumber(flags.shutdownGrace, '--shutdown-grace', 0, 600_000),
  };
  const maxBytes = parseByteSize(flags.recordsMaxBytes, '--records-max-bytes');
  const maxFiles = wholeNumber(flags.recordsMaxFiles, '--records-max-files', 1, 1000);
  if (maxBytes > 0) config.recordsRotation = { maxBytes, maxFiles };
  if (flags.tlsCert !== undefined) config.tlsCert = flags.tlsCert;
  if (flags.tlsKey !== undefined) config.tlsKey = flags.tlsKey;
  if (flags.clientCa !== undefined) config.clientCa = flags.clientCa;
  if (flags.inCluster === true) config.cluster = 'in-cluster';
  else if (flags.kubeconfig !== undefined) config.cluster = flags.kubeconfig;
  if (flags.manageWebhooks === true) {
    if (config.cluster === undefined) throw new DriftguardError('DG_USAGE', '--manage-webhooks needs --kubeconfig FILE or --in-cluster');
    config.manageWebhooks = true;
  }
  if (flags.auditWebhook === true) {
    const auditPath = flags.auditWebhookPath ?? '/audit';
    if (!auditPath.startsWith('/')) throw new DriftguardError('DG_USAGE', '--audit-webhook-path must start with /');
    if (flags.auditWebhookClientCa === undefined && flags.auditWebhookTokenFile === undefined)
      throw new DriftguardError(
        'DG_USAGE',
        '--audit-webhook needs --audit-webhook-client-ca FILE (mutual TLS) or --audit-webhook-token-file FILE (bearer token)',
      );
    config.auditWebhook = {
      port: wholeNumber(flags.auditWebhookPort ?? '8444', '--audit-webhook-port', 0, 65535),
      path: auditPath,
      queue: wholeNumber(flags.auditWebhookQueue ?? '50000', '--audit-webhook-queue', 1, 10_000_000),
      ...(flags.auditWebhookClientCa === undefined ? {} : { clientCa: flags.auditWebhookClientCa }),
      ...(flags.auditWebhookTokenFile === undefined ? {} : { tokenFile: flags.auditWebhookTokenFile }),
    };
  }
  const observe = observeMode(flags.observe ?? 'full');
  if (observe !== 'full') config.observe = observe;
  const monitoring: MonitoringConfig = {
    processMetrics: true,
    notifyWebhooks: (flags.notifyWebhook ?? []).map((u) => webhookUrl(u, '--notify-webhook')),
    notifySlack: (flags.notifySlack ?? []).map((u) => webhookUrl(u, '--notify-slack')),
  };
  if (flags.metricsPort !== undefined) monitoring.metricsPort = wholeNumber(flags.metricsPort, '--metrics-port', 0, 65535);
  if (flags.events === false) monitoring.events = false;
  config.monitoring = monitoring;
  const reports = oneOf('--reports', flags.reports ?? 'off', ['openreports', 'wgpolicy', 'off'] as const);
  if (reports !== 'off') {
    if (config.cluster === undefined) throw new DriftguardError('DG_USAGE', '--reports needs --kubeconfig FILE or --in-cluster');
    // The Lease lives in driftguard's own namespace (--namespace).
    config.reports = {
      format: reports,
      leaseNamespace: flags.namespace,
      maxReports: wholeNumber(flags.reportsMax ?? String(DEFAULT_MAX_REPORTS), '--reports-max', 1, 1_000_000),
      limits: {
        ...DEFAULT_REPORT_LIMITS,
        maxResults: wholeNumber(flags.reportsMaxResults ?? String(DEFAULT_REPORT_LIMITS.maxResults), '--reports-max-results', 1, 10_000),
      },
      writesPerSecond: wholeNumber(
        flags.reportsWritesPerSecond ?? String(DEFAULT_WRITES_PER_SECOND),
        '--reports-writes-per-second',
        1,
        1_000,
      ),
    };
  }
  const cluster = clusterName(flags.cluster);
  if (cluster !== undefined) config.clusterName = cluster;
  const url = storeUrl(flags);
  if (url !== undefined) {
    config.store = {
      url,
      spoolFile: flags.storeSpool ?? 'records/driftguard.store-spool',
      spoolMaxBytes: parseByteSize(flags.storeSpoolMaxBytes ?? '256Mi', '--store-spool-max-bytes'),
      retentionMs: retentionMs(flags.storeRetention),
      ...(flags.storeMigrate === true ? { migrate: true } : {}),
    };
  } else if (flags.storeMigrate === true)
    throw new DriftguardError('DG_USAGE', '--store-migrate needs --store, --store-url-file or DRIFTGUARD_STORE_URL');
  return config;
}

export function registerServe(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cmd = program
    .command('serve')
    .description('serve the admission webhook over HTTPS')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('-p, --policies <path...>', 'policy directories or files', ['policies'])
    .option('--cert-dir <dir>', 'tls.crt and tls.key; a development CA and certificate are created here when missing', 'certs')
    .option('--tls-cert <file>', 'serving certificate (PEM); with --tls-key, instead of --cert-dir')
    .option('--tls-key <file>', 'serving key (PEM)')
    .option('--client-ca <file>', 'require client certificates signed by this CA (mutual TLS with the API server)')
    .option('--records <file>', 'JSON-lines records file, or - for stdout', 'records/driftguard.jsonl')
    .option('--records-max-bytes <size>', 'rotate the records file at this size (0 = never); e.g. 100Mi', '100Mi')
    .option('--records-max-files <n>', 'rotated records files kept (NAME.1 ... NAME.n)', '5')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--kubeconfig <file>', 'reach the cluster with this kubeconfig (parent lookups for Scale requests)')
    .option('--in-cluster', 'reach the cluster with the pod service account')
    .option(
      '--manage-webhooks',
      "keep the webhook configurations' rules and matchConditions in step with the policies after every reload (RBAC: get, update, patch on them)",
    )
    .option(
      '--observe <mode>',
      'full: the entry observer records who set what; none: prevention only, the observer records nothing (with --manage-webhooks it is sent nothing)',
      'full',
    )
    .option('--service <name>', 'Service name for a generated certificate', 'driftguard')
    .option('--namespace <name>', 'namespace for a generated certificate', 'driftguard')
    .option('--shutdown-grace <ms>', 'how long in-flight requests may finish on SIGTERM', '20000')
    .option('--metrics-port <port>', 'also serve /metrics over plain HTTP on this port (it is always on the HTTPS port)')
    .option('--notify-webhook <url>', 'POST denials, break-glass use and drift as JSON to this URL (repeatable)', collect)
    .option('--notify-slack <url>', 'post them to this Slack-compatible incoming webhook (repeatable)', collect)
    .option('--no-events', 'do not create Kubernetes Events (on by default with a cluster)')
    .option('--capture-dir <dir>', 'write every review a policy covered here, redacted, ready for `policy test`')
    .option('--capture-max-files <n>', 'stop capturing after this many files', '10000')
    .option('--capture-dry-runs', 'capture dry runs too')
    .option(
      '--reports <format>',
      'write findings as report objects: openreports (openreports.io Report), wgpolicy (wgpolicyk8s.io PolicyReport) or off; needs a cluster (docs/reports.md)',
      'off',
    )
    .option('--reports-max <n>', 'reports written at most; objects past it get none (counted and logged)', String(DEFAULT_MAX_REPORTS))
    .option(
      '--reports-max-results <n>',
      'results per report at most (fail kept first, then warn, then pass)',
      String(DEFAULT_REPORT_LIMITS.maxResults),
    )
    .option('--reports-writes-per-second <n>', 'report writes per second at most', String(DEFAULT_WRITES_PER_SECOND))
    .option(
      '--audit-webhook',
      "take the API server's audit webhook batches on a port of its own and record their writes (docs/audit-log.md)",
    )
    .option('--audit-webhook-port <port>', 'HTTPS port of the audit webhook', '8444')
    .option('--audit-webhook-path <path>', 'path of the audit webhook', '/audit')
    .option('--audit-webhook-client-ca <file>', 'audit webhook: require client certificates this CA signed')
    .option('--audit-webhook-token-file <file>', 'audit webhook: require this bearer token')
    .option('--audit-webhook-queue <n>', 'audit events queued at most (a batch that does not fit is refused with 429)', '50000')
    .option('--exit-with-parent', 'stop (as on SIGTERM) when the parent process exits; `npm start` sets it');
  addServeStoreOptions(cmd).action(async (flags: ServeFlags) => {
    if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel))
      throw new DriftguardError('DG_USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    const config = serveConfig(flags);
    const logger = createLogger(flags.logLevel as LogLevel, io.stderr);
    const maxFiles = wholeNumber(flags.captureMaxFiles, '--capture-max-files', 1, 10_000_000);
    // A signal before the server is up stops the process at once (the default action): nothing
    // is served yet and nothing is buffered. Once it is up, a signal drains it.
    const early = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopped while starting');
      // With no handler left, the signal's default action ends the process.
      unwatch();
      process.kill(process.pid, signal);
    };
    let handler: ((signal: NodeJS.Signals) => void) | undefined;
    const unwatch = (): void => {
      if (handler !== undefined) for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, handler);
      handler = undefined;
    };
    const watch = (on: (signal: NodeJS.Signals) => void): void => {
      unwatch();
      handler = on;
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, on);
    };
    watch(early);
    let running;
    let capture;
    try {
      checkRecordsDestination(config.records);
      capture =
        flags.captureDir === undefined
          ? undefined
          : await openCapture({ dir: flags.captureDir, maxFiles, dryRuns: flags.captureDryRuns === true }, { logger, clock: io.clock });
      running = await startServer(config, { logger, clock: io.clock, ...(capture === undefined ? {} : { hooks: capture.hooks }) });
    } catch (err) {
      unwatch();
      throw err;
    }
    const server = running;
    const captured = capture;
    const parent = flags.exitWithParent === true ? process.ppid : undefined;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (reason: string): void => {
        if (stopping) return;
        stopping = true;
        clearInterval(orphan);
        logger.info({ reason }, 'shutting down');
        void server
          .shutdown()
          .then(() => captured?.drain())
          .then(resolve);
      };
      // `npm start` runs serve under npm: when npm is killed the server is reparented; it then
      // stops as if it had been sent SIGTERM.
      const orphan = setInterval(() => {
        if (parent !== undefined && process.ppid !== parent) stop('parent process exited');
      }, 500);
      orphan.unref();
      watch((signal) => stop(signal));
    });
    unwatch();
    setExit(0);
  });
}
