/**
 * driftguard's Prometheus metrics, on a Registry the caller passes in (nothing is registered on
 * prom-client's global registry, and nothing happens at import). Fed by the server hooks; the
 * request-duration middleware and the Event and notification queues report here too.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Hooks } from '../hooks/hooks.js';
import { DROP_REASONS, type QueueMeter } from '../signal/queue-meter.js';
import { fromRequest } from '../k8s/object-ref.js';
import { requestOutcome } from '../signal/signal.js';
import type { AuditWebhookMeter } from '../server/audit-webhook.js';

export interface MetricsOptions {
  registry: Registry;
  clock: () => Date;
  /** Also the process metrics (CPU, memory, event-loop lag, GC) prom-client collects. */
  processMetrics?: boolean;
}

export class DriftguardMetrics {
  readonly registry: Registry;
  readonly admissionRequests: Counter<'decision' | 'policy' | 'operation' | 'kind' | 'dry_run'>;
  readonly evaluationDuration: Histogram;
  readonly requestDuration: Histogram<'route' | 'code'>;
  readonly changeRecords: Counter<'actor_class'>;
  readonly reviewParsesReused: Counter;
  readonly policiesLoaded: Gauge;
  readonly policyReloadFailures: Counter;
  readonly certificateExpiry: Gauge;
  readonly notificationsSent: Counter<'sink'>;
  readonly notificationsDropped: Counter<'sink' | 'reason'>;
  readonly eventsSent: Counter;
  readonly eventsDropped: Counter<'reason'>;
  readonly coverageGaps: Gauge;
  readonly registrationUpdates: Counter<'configuration'>;
  readonly auditBatches: Counter<'outcome'>;
  readonly auditEvents: Counter<'outcome'>;
  readonly auditQueued: Gauge;
  private auditQueueDepth: (() => number) | undefined;
  private notAfter: Date | undefined;

  constructor(opts: MetricsOptions) {
    const registers = [opts.registry];
    this.registry = opts.registry;
    this.admissionRequests = new Counter({
      name: 'driftguard_admission_requests_total',
      help: 'Admission requests judged, by outcome (allowed, denied, warned, audited, break-glass) and the policy that decided it ("none" when none applied).',
      labelNames: ['decision', 'policy', 'operation', 'kind', 'dry_run'],
      registers,
    });
    this.evaluationDuration = new Histogram({
      name: 'driftguard_evaluation_duration_seconds',
      help: 'Time to evaluate one request against the policy set (engine only).',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'driftguard_request_duration_seconds',
      help: 'HTTP requests to the webhook, from the first byte read to the answer sent, by route and status code.',
      labelNames: ['route', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.changeRecords = new Counter({
      name: 'driftguard_change_records_total',
      help: 'Change records written (attribution ledger), by actor class (gitops, controller, person, unknown).',
      labelNames: ['actor_class'],
      registers,
    });
    this.reviewParsesReused = new Counter({
      name: 'driftguard_review_parses_reused_total',
      help: 'Reviews answered from the parse of another call of the same write (bytes equal but for the uid), without parsing their body.',
      registers,
    });
    this.policiesLoaded = new Gauge({ name: 'driftguard_policies_loaded', help: 'Policies in the set being served.', registers });
    this.policyReloadFailures = new Counter({
      name: 'driftguard_policy_reload_failures_total',
      help: 'Policy reloads rejected (the previous set keeps serving).',
      registers,
    });
    const metrics = this;
    this.certificateExpiry = new Gauge({
      name: 'driftguard_certificate_expiry_seconds',
      help: 'Seconds until the serving certificate expires (negative once expired), computed at scrape time.',
      registers,
      collect() {
        if (metrics.notAfter !== undefined) this.set((metrics.notAfter.getTime() - opts.clock().getTime()) / 1000);
      },
    });
    this.notificationsSent = new Counter({
      name: 'driftguard_notifications_sent_total',
      help: 'Notifications delivered, by sink.',
      labelNames: ['sink'],
      registers,
    });
    this.notificationsDropped = new Counter({
      name: 'driftguard_notifications_dropped_total',
      help: 'Notifications given up on, by sink and reason (queue_full, rejected, failed, shutdown).',
      labelNames: ['sink', 'reason'],
      registers,
    });
    this.eventsSent = new Counter({ name: 'driftguard_events_sent_total', help: 'Kubernetes Events created or updated.', registers });
    this.eventsDropped = new Counter({
      name: 'driftguard_events_dropped_total',
      help: 'Kubernetes Event writes given up on, by reason (queue_full, rejected, failed, shutdown).',
      labelNames: ['reason'],
      registers,
    });
    this.coverageGaps = new Gauge({
      name: 'driftguard_policy_coverage_gaps',
      help: 'What the loaded policies cover that the webhook registration does not send (a resource no rule names, a policy the matchConditions skip); checked at start and on every policy reload when a cluster is configured.',
      registers,
    });
    this.registrationUpdates = new Counter({
      name: 'driftguard_webhook_registration_updates_total',
      help: 'Updates of a webhook configuration by `serve --manage-webhooks` (rules and matchConditions brought in step with the policies), by configuration.',
      labelNames: ['configuration'],
      registers,
    });
    this.auditBatches = new Counter({
      name: 'driftguard_audit_batches_total',
      help: 'Audit event batches posted to `serve --audit-webhook`, by outcome: accepted, full (refused with 429: the API server sends it again), unauthorized, invalid, too_large.',
      labelNames: ['outcome'],
      registers,
    });
    this.auditEvents = new Counter({
      name: 'driftguard_audit_events_total',
      help: 'Audit events from `serve --audit-webhook` turned into records (change), left out (skip: reads, failed requests, other stages) or not usable (problem).',
      labelNames: ['outcome'],
      registers,
    });
    const depth = (): number => this.auditQueueDepth?.() ?? 0;
    this.auditQueued = new Gauge({
      name: 'driftguard_audit_queue_events',
      help: 'Audit events queued by `serve --audit-webhook`, not yet turned into records.',
      registers,
      collect() {
        this.set(depth());
      },
    });
    if (opts.processMetrics === true) collectDefaultMetrics({ register: opts.registry });
  }

  /** The server hooks that feed these metrics. Each is cheap: a few label lookups, no I/O. */
  hooks(): Hooks {
    return {
      onDecision: (info) => {
        const { outcome, policy } = requestOutcome(info);
        this.admissionRequests.inc({
          decision: outcome,
          policy,
          operation: info.request.operation,
          kind: fromRequest(info.request).kind,
          dry_run: info.request.dryRun === true ? 'true' : 'false',
        });
        this.evaluationDuration.observe(info.evaluationSeconds);
      },
      onPolicyLoad: (info) => {
        if (info.ok) this.policiesLoaded.set(info.policies);
        else this.policyReloadFailures.inc();
      },
      onCertificateLoad: (info) => {
        this.notAfter = info.notAfter;
      },
      onChangeRecord: (record) => {
        this.changeRecords.inc({ actor_class: record.actorClass });
      },
    };
  }

  /**
   * Time one request: call when it arrives, then the returned function with its route label and
   * status once the answer is sent (the HTTP adapter does both, server/app.ts).
   */
  requestTimer(): (route: string, code: number) => void {
    const end = this.requestDuration.startTimer();
    return (route, code) => end({ route, code: String(code) });
  }

  /**
   * A meter for one notification sink. Its drop series start at 0, so an alert on increase() sees
   * the first drop (a series born at its first increment shows no increase).
   */
  notificationMeter(sink: string): QueueMeter {
    for (const reason of DROP_REASONS) this.notificationsDropped.inc({ sink, reason }, 0);
    this.notificationsSent.inc({ sink }, 0);
    return {
      sent: (n = 1) => this.notificationsSent.inc({ sink }, n),
      dropped: (reason, n = 1) => this.notificationsDropped.inc({ sink, reason }, n),
    };
  }

  /** What `serve --audit-webhook` counts; its series start at 0. */
  auditMeter(queued: () => number): AuditWebhookMeter {
    this.auditQueueDepth = queued;
    for (const outcome of ['accepted', 'full', 'unauthorized', 'invalid', 'too_large']) this.auditBatches.inc({ outcome }, 0);
    for (const outcome of ['change', 'skip', 'problem']) this.auditEvents.inc({ outcome }, 0);
    return {
      batch: (outcome) => this.auditBatches.inc({ outcome }),
      events: (outcome, n) => this.auditEvents.inc({ outcome }, n),
    };
  }

  eventMeter(): QueueMeter {
    for (const reason of DROP_REASONS) this.eventsDropped.inc({ reason }, 0);
    return {
      sent: (n = 1) => this.eventsSent.inc(n),
      dropped: (reason, n = 1) => this.eventsDropped.inc({ reason }, n),
    };
  }
}
