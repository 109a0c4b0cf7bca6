/**
 * Everything `serve` reports beyond its answers, built from config in one place so serve.ts only
 * plugs it in: Prometheus metrics (GET /metrics on the webhook port, optionally a plain-HTTP
 * port), Kubernetes Events when a cluster is configured, and notification channels. Building it
 * does no I/O; `listen` opens the metrics port; `close` drains the queues within a grace period.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { KubeClient } from '../cluster/kube.js';
import { errorMessage } from '../errors.js';
import { EventRecorder, type EventClient, type EventRecorderOptions } from '../events/recorder.js';
import type { Hooks } from '../hooks/hooks.js';
import { DriftguardMetrics } from '../metrics/metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics/server.js';
import { slackFormat, webhookFormat, type NotificationFormat } from '../notify/format.js';
import { Notifier, type NotifierOptions } from '../notify/notifier.js';
import { postJson, type PostJson } from '../notify/post.js';
import type { PolicySet } from '../policy/set.js';
import { signalsOf } from '../signal/signal.js';

type Tuning<T> = Partial<Omit<T, 'client' | 'logger' | 'clock' | 'meter' | 'source' | 'url' | 'format' | 'post'>>;

export interface MonitoringConfig {
  /** Also export prom-client's process metrics (CPU, memory, event-loop lag, GC): the CLI turns this on. */
  processMetrics?: boolean;
  /** Serve /metrics over plain HTTP on this port too (0 = any free port). */
  metricsPort?: number;
  /** Generic JSON webhook receivers. */
  notifyWebhooks?: string[];
  /** Slack-compatible incoming webhooks. */
  notifySlack?: string[];
  /** Kubernetes Events on the target objects; default on when a cluster is configured. */
  events?: boolean;
  /** Queue, batch and retry settings (defaults in notifier.ts and recorder.ts). */
  notifyTuning?: Tuning<NotifierOptions>;
  eventTuning?: Tuning<EventRecorderOptions>;
  /** How long shutdown waits for queued Events and notifications. */
  drainGraceMs?: number;
}

export interface MonitoringDeps {
  logger: Logger;
  clock: () => Date;
  /** Metrics go here; a fresh Registry when not given (never prom-client's global one). */
  registry?: Registry;
  /** The kubeconfig path or "in-cluster" serve was given, if any. */
  cluster?: string;
  /** Address the metrics port listens on (the webhook's --host). */
  host: string;
  /** The policy set being served (to class GitOps actors in signals). */
  policies: () => PolicySet;
  /** Overrides for tests: the Events API client and the notification POST. */
  eventClient?: EventClient;
  post?: PostJson;
}

export interface Monitoring {
  metrics: DriftguardMetrics;
  registry: Registry;
  /** Feed these to the server (they include the Events and notification producers). */
  hooks: Hooks;
  events?: EventRecorder;
  notifiers: Notifier[];
  /** The exposition text for GET /metrics on the webhook port. */
  exposition(): Promise<{ contentType: string; text: string }>;
  /** Open the metrics port, if configured. */
  listen(): Promise<void>;
  /** The metrics port's URL once listening. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

const DEFAULT_DRAIN_GRACE_MS = 3_000;

export function createMonitoring(config: MonitoringConfig, deps: MonitoringDeps): Monitoring {
  const { logger, clock } = deps;
  const registry = deps.registry ?? new Registry();
  const metrics = new DriftguardMetrics({ registry, clock, processMetrics: config.processMetrics === true });

  let events: EventRecorder | undefined;
  const wantEvents = config.events ?? (deps.cluster !== undefined || deps.eventClient !== undefined);
  if (wantEvents) {
    const client =
      deps.eventClient ??
      (deps.cluster === undefined ? undefined : KubeClient.load(deps.cluster, { timeoutMs: config.eventTuning?.timeoutMs ?? 2_000 }));
    if (client === undefined) logger.warn('Events need a cluster (--kubeconfig or --in-cluster); none will be sent');
    else
      events = new EventRecorder({
        ...config.eventTuning,
        client,
        logger,
        clock,
        meter: metrics.eventMeter(),
        source: { component: 'driftguard', instance: hostname() },
      });
  }

  const notifiers: Notifier[] = [];
  const channel = (url: string, format: NotificationFormat): void => {
    notifiers.push(
      new Notifier({
        ...config.notifyTuning,
        url,
        format,
        post: deps.post ?? postJson,
        logger,
        clock,
        meter: metrics.notificationMeter(format.name),
      }),
    );
  };
  for (const url of config.notifyWebhooks ?? []) channel(url, webhookFormat);
  for (const url of config.notifySlack ?? []) channel(url, slackFormat);

  const hooks = metrics.hooks();
  if (events !== undefined || notifiers.length > 0) {
    const count = hooks.onDecision!;
    hooks.onDecision = (info) => {
      count(info);
      let signals;
      try {
        signals = signalsOf(info, clock(), deps.policies().gitops);
      } catch (err) {
        logger.error({ err: { message: errorMessage(err) } }, 'could not build drift signals');
        return;
      }
      for (const s of signals) {
        events?.record(s);
        for (const n of notifiers) n.notify(s);
      }
    };
  }

  let server: MetricsServer | undefined;
  return {
    metrics,
    registry,
    hooks,
    ...(events === undefined ? {} : { events }),
    notifiers,
    async exposition() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
    async listen() {
      if (config.metricsPort === undefined || server !== undefined) return;
      server = await startMetricsServer({ host: deps.host, port: config.metricsPort, registry, logger });
      logger.info({ url: server.url }, 'metrics served over plain HTTP');
    },
    get metricsUrl() {
      return server?.url;
    },
    async close() {
      const grace = config.drainGraceMs ?? DEFAULT_DRAIN_GRACE_MS;
      await Promise.all([events?.close(grace), ...notifiers.map((n) => n.close(grace))]);
      await server?.close();
    },
  };
}
