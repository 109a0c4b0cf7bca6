/**
 * The report loop of `serve --reports`: off the admission path, one writer at a time.
 *
 * The record sink hands every record to the store (store.ts), which marks the object dirty; a
 * bounded queue (queue/bounded-queue.ts) takes dirty objects one at a time, computes the object's
 * report (compute.ts) and applies it with server-side apply under one field manager, every write
 * paced by a token bucket (`writesPerSecond`). Only the replica holding the Lease (lease.ts) writes; the others
 * keep their records and write everything they hold when they take over. A failed write is retried
 * with backoff (signal/backoff.ts), then the object waits for its next record or the next resync.
 *
 * Bounds: results per report (compute.ts), and reports in all (`maxReports`): an object past the
 * bound gets no report, counted in a metric and logged. The CRDs are not driftguard's to install:
 * when the report kind is not served, the loop warns once, says so on /readyz, checks again every
 * `crdCheckMs` and writes every report it holds once they appear.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeClient } from '../cluster/kube.js';
import { ReportMetrics } from '../metrics/report-metrics.js';
import type { Hooks } from '../hooks/hooks.js';
import { fromRequest, type ObjectQuery } from '../k8s/object-ref.js';
import type { PolicySet } from '../policy/set.js';
import { BoundedQueue } from '../queue/bounded-queue.js';
import type { ReadRecord } from '../records/read.js';
import type { RecordSink } from '../records/sink.js';
import { backoffMs, Waker } from '../signal/backoff.js';
import {
  computeReport,
  DEFAULT_REPORT_LIMITS,
  REPORT_SOURCE,
  type ReportLimits,
  type ReportPolicy,
  type ReportSeverity,
} from './compute.js';
import { adoptReport } from './adopt.js';
import { DEFAULT_LEASE, LeaseElector } from './lease.js';
import {
  MANAGED_BY_LABEL,
  renderReport,
  reportKinds,
  reportName,
  type RenderedReport,
  type ReportFormat,
  type ReportKind,
} from './render.js';
import { objectKey, RecordStore, teeSink } from './store.js';

const REPORTS_FIELD_MANAGER = 'driftguard-reports';

export interface ReportLoopConfig {
  format: ReportFormat;
  /** Where the Lease lives (driftguard's own namespace). */
  leaseNamespace: string;
  leaseName?: string;
  identity: string;
  lease?: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Report writes per second at most (default 10). */
  writesPerSecond?: number;
  /** Reports in all at most (default 5,000). */
  maxReports?: number;
  limits?: ReportLimits;
  /** Objects whose records are kept (default 20,000) and records kept per object (default 200). */
  maxObjects?: number;
  maxRecordsPerObject?: number;
  /** How often a missing CRD is looked for again (default 10 s). */
  crdCheckMs?: number;
}

/** Where a new leader reads the records another replica wrote: the records store. */
export interface ReportHistory {
  load(target: ObjectQuery): Promise<readonly ReadRecord[]>;
  close(): Promise<void>;
}

export interface ReportLoopDeps {
  /** Absent without a store: the reports in the cluster are all a new leader has (adopt.ts). */
  history?: ReportHistory;
  client: KubeClient;
  logger: Logger;
  clock: () => Date;
  registry: Registry;
  policies: () => PolicySet;
}

export const DEFAULT_WRITES_PER_SECOND = 10;
export const DEFAULT_MAX_REPORTS = 5_000;
const QUEUE_CAPACITY = 50_000;
const MAX_ATTEMPTS = 5;

function policySettings(set: PolicySet): Map<string, ReportPolicy> {
  const out = new Map<string, ReportPolicy>();
  for (const p of set.policies) {
    const severity = (p.definition.spec as { severity?: ReportSeverity }).severity;
    out.set(p.name, severity === undefined ? { mode: p.mode } : { mode: p.mode, severity });
  }
  return out;
}

function reportPath(kind: ReportKind, namespace: string | undefined, name?: string): string {
  const ns = kind.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${kind.group}/${kind.version}${ns}/${kind.resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** A token bucket: `take` resolves when a write may go out. */
class Pace {
  private next = 0;
  private readonly waker = new Waker();
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  async take(signal: AbortSignal): Promise<void> {
    const t = this.now();
    const at = Math.max(t, this.next);
    this.next = at + this.intervalMs;
    if (at > t) await this.waker.wait(at - t, signal);
  }
}

export class ReportLoop {
  readonly store: RecordStore;
  private readonly c: Required<Omit<ReportLoopConfig, 'lease' | 'limits'>> & { limits: ReportLimits };
  private readonly d: ReportLoopDeps;
  private readonly metrics: ReportMetrics;
  private readonly queue: BoundedQueue<string>;
  private readonly queued = new Set<string>();
  private readonly elector: LeaseElector;
  private readonly pace: Pace;
  /** Reports this replica knows are in the cluster (key -> the rendered report's place). */
  private readonly written = new Map<string, RenderedReport>();
  /** The report another replica wrote, as read before this one first wrote it (adopt.ts). */
  private readonly inherited = new Map<string, unknown>();
  /** The names of driftguard's reports in the cluster: listed when this replica takes the Lease, kept since. */
  private readonly inCluster = new Set<string>();
  /** Objects whose records were loaded from the store since this replica took the Lease. */
  private readonly loaded = new Set<string>();
  /** The listing a new leader makes before it writes anything. */
  private seeding: Promise<void> | undefined;
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private crdServed: boolean | undefined;
  private crdTimer: NodeJS.Timeout | undefined;
  private lastBoundLog = 0;
  private closed = false;

  constructor(config: ReportLoopConfig, deps: ReportLoopDeps) {
    this.c = {
      format: config.format,
      leaseNamespace: config.leaseNamespace,
      leaseName: config.leaseName ?? 'driftguard-reports',
      identity: config.identity,
      writesPerSecond: config.writesPerSecond ?? DEFAULT_WRITES_PER_SECOND,
      maxReports: config.maxReports ?? DEFAULT_MAX_REPORTS,
      limits: config.limits ?? DEFAULT_REPORT_LIMITS,
      maxObjects: config.maxObjects ?? 20_000,
      maxRecordsPerObject: config.maxRecordsPerObject ?? 200,
      crdCheckMs: config.crdCheckMs ?? 10_000,
    };
    this.d = deps;
    this.store = new RecordStore({
      maxObjects: this.c.maxObjects,
      maxRecordsPerObject: this.c.maxRecordsPerObject,
      onChange: (key) => this.enqueue(key),
    });
    this.metrics = new ReportMetrics(deps.registry, () => this.queue.pending);
    this.pace = new Pace(1000 / this.c.writesPerSecond, () => deps.clock().getTime());
    this.queue = new BoundedQueue<string>({
      capacity: QUEUE_CAPACITY,
      handle: ([key], signal) => this.reconcile(key!, signal),
      onDrop: (keys) => {
        for (const k of keys) this.queued.delete(k);
      },
      onError: (err, keys) => deps.logger.error({ err, objects: keys }, 'report loop: reconcile failed'),
    });
    this.elector = new LeaseElector({
      client: deps.client,
      namespace: this.c.leaseNamespace,
      name: this.c.leaseName,
      identity: this.c.identity,
      ...(config.lease ?? DEFAULT_LEASE),
      clock: deps.clock,
      logger: deps.logger,
      onChange: (leading) => {
        this.metrics.leader.set(leading ? 1 : 0);
        // A new leader starts from what the cluster holds (takeOver), then writes every report it holds.
        if (leading) this.seeding = this.takeOver();
      },
    });
  }

  start(): void {
    this.elector.start();
    void this.checkCrds();
  }

  get leading(): boolean {
    return this.elector.isLeader;
  }

  /** The record sink the admission path writes to, every record also taken into the store. */
  tee(sink: RecordSink): RecordSink {
    return teeSink(sink, (r) => this.store.add(r));
  }

  /** The uid of an object a denied request names (its violation records carry none). */
  readonly hooks: Hooks = {
    onDecision: (info) => {
      const ref = fromRequest(info.request);
      if (ref.name === '') return;
      const key = objectKey(ref);
      const { message, warnings } = info.decision;
      if (message !== undefined || warnings.length > 0)
        this.store.setTold(key, info.request.uid, message === undefined ? { warnings } : { message, warnings });
      if (ref.uid !== undefined) this.store.setUid(key, ref.uid);
    },
  };

  /** What /readyz says while the report CRDs are missing. */
  warnings(): string[] {
    if (this.crdServed !== false) return [];
    const kinds = reportKinds(this.c.format).map((k) => `${k.resource}.${k.group}`);
    return [`report CRDs not installed (${kinds.join(', ')}): no reports are written until they are`];
  }

  private enqueue(key: string): void {
    if (this.closed || this.queued.has(key)) return;
    if (this.queue.push(key)) this.queued.add(key);
  }

  /**
   * Taking the Lease: another replica may have written any report since this one last led, so every
   * report is read again before this replica first writes it (adopt.ts keeps what it holds), and the
   * reports in the cluster are listed (names only) so the bound on reports counts the old leader's.
   */
  private async takeOver(): Promise<void> {
    this.written.clear();
    this.inherited.clear();
    this.inCluster.clear();
    this.loaded.clear();
    for (const kind of reportKinds(this.c.format)) {
      let cont = '';
      do {
        const q = `?labelSelector=${encodeURIComponent(`${MANAGED_BY_LABEL}=${REPORT_SOURCE}`)}&limit=500${cont === '' ? '' : `&continue=${encodeURIComponent(cont)}`}`;
        const res = await this.d.client
          .request('GET', `${reportPath(kind, undefined)}${q}`, {
            accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
          })
          .catch(() => undefined);
        // Not served yet (the CRDs are missing) or not reachable: nothing is counted, nothing is lost.
        if (res === undefined || res.status !== 200) break;
        const list = res.body as { items?: { metadata?: { name?: string } }[]; metadata?: { continue?: string } };
        for (const item of list.items ?? []) if (item.metadata?.name !== undefined) this.inCluster.add(item.metadata.name);
        cont = list.metadata?.continue ?? '';
      } while (cont !== '');
    }
    this.d.logger.info({ reports: this.inCluster.size }, 'report writer: reports in the cluster listed');
    this.resync();
  }

  private resync(): void {
    for (const key of this.store.keys()) this.enqueue(key);
  }

  /** Is the report API served? Looked up in discovery; while not, looked up again every crdCheckMs. */
  private async checkCrds(): Promise<boolean> {
    if (this.crdTimer !== undefined) return false;
    const kind = reportKinds(this.c.format)[0]!;
    let served = false;
    try {
      const res = await this.d.client.request('GET', `/apis/${kind.group}/${kind.version}`);
      served = res.status === 200 && JSON.stringify(res.body).includes(`"name":"${kind.resource}"`);
    } catch (err) {
      this.d.logger.debug({ err: { message: err instanceof Error ? err.message : String(err) } }, 'report loop: discovery failed');
    }
    const before = this.crdServed;
    this.crdServed = served;
    if (!served) {
      if (before !== false)
        this.d.logger.warn(
          { group: kind.group, version: kind.version, kinds: reportKinds(this.c.format).map((k) => k.kind) },
          'report CRDs are not installed: no reports are written until they are (driftguard keeps serving)',
        );
      if (!this.closed) {
        this.crdTimer = setTimeout(() => {
          this.crdTimer = undefined;
          void this.checkCrds();
        }, this.c.crdCheckMs);
        this.crdTimer.unref();
      }
    } else if (before === false) {
      this.d.logger.info({ group: kind.group }, 'report CRDs installed: writing reports');
      this.resync();
    }
    return served;
  }

  private scheduleExpiry(key: string, at: number | undefined): void {
    const old = this.expiryTimers.get(key);
    if (old !== undefined) clearTimeout(old);
    this.expiryTimers.delete(key);
    if (at === undefined || this.closed) return;
    const timer = setTimeout(
      () => {
        this.expiryTimers.delete(key);
        this.enqueue(key);
      },
      Math.max(0, at - this.d.clock().getTime()) + 1_000,
    );
    timer.unref();
    this.expiryTimers.set(key, timer);
  }

  private async reconcile(key: string, signal: AbortSignal): Promise<void> {
    this.queued.delete(key);
    if (this.seeding !== undefined) await this.seeding;
    if (!this.elector.isLeader || this.crdServed !== true) return;
    const obj = this.store.get(key);
    if (obj === undefined || obj.uid === undefined) return;
    if (this.d.history !== undefined && !this.loaded.has(key)) {
      // Once per object per takeover: the records every replica shipped to the store.
      try {
        this.store.merge(key, await this.d.history.load(obj.target));
        this.loaded.add(key);
      } catch (err) {
        this.d.logger.warn(
          { object: key, err: { message: err instanceof Error ? err.message : String(err) } },
          'report loop: records store not read; the report in the cluster is kept instead',
        );
      }
    }
    const settings = policySettings(this.d.policies());
    const computed = computeReport({
      records: obj.records,
      target: obj.target,
      scope: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.target.name,
        ...(obj.target.namespace === '' ? {} : { namespace: obj.target.namespace }),
        uid: obj.uid,
      },
      policies: settings,
      now: this.d.clock(),
      limits: this.c.limits,
      told: obj.told,
    });
    if (computed === undefined) {
      // Deleted: the garbage collector removes the report with its owner.
      this.written.delete(key);
      this.inherited.delete(key);
      this.inCluster.delete(reportName({ uid: obj.uid }));
      this.store.forget(key);
      this.scheduleExpiry(key, undefined);
      return;
    }
    this.scheduleExpiry(key, computed.nextChangeAt);
    if (!this.written.has(key) && !this.inherited.has(key)) {
      if (computed.results.length === 0) return;
      if (this.overBound(key, obj.uid)) return;
      // The first write of this object by this replica: what another replica wrote is kept.
      const rendered = renderReport(this.c.format, computed);
      const got = await this.d.client.request('GET', reportPath(rendered.kind, rendered.namespace, rendered.name)).catch(() => undefined);
      if (got === undefined || (got.status !== 200 && got.status !== 404)) {
        this.retryLater(key);
        return;
      }
      this.inherited.set(key, got.status === 200 ? got.body : undefined);
    }
    const report = adoptReport(computed, this.inherited.get(key), {
      loaded: new Set(settings.keys()),
      limits: this.c.limits,
      written: computed.written,
      now: this.d.clock(),
    });
    this.scheduleExpiry(key, report.nextChangeAt);
    if (report.results.length === 0 && !this.written.has(key)) return;
    if (this.overBound(key, obj.uid)) return;
    if (report.trimmed > 0) {
      this.metrics.trimmed.inc({ what: 'results' }, report.trimmed);
      this.d.logger.warn(
        { object: key, trimmed: report.trimmed, maxResults: this.c.limits.maxResults },
        'report results trimmed to their bound',
      );
    }
    const rendered = renderReport(this.c.format, report);
    await this.apply(key, rendered, signal);
  }

  /** A new report past the bound on reports in all: counted, logged at most once a minute. */
  private overBound(key: string, uid: string): boolean {
    if (this.written.has(key) || this.inCluster.has(reportName({ uid })) || this.inCluster.size < this.c.maxReports) return false;
    this.metrics.trimmed.inc({ what: 'reports' });
    const now = this.d.clock().getTime();
    if (now - this.lastBoundLog > 60_000) {
      this.lastBoundLog = now;
      this.d.logger.warn({ maxReports: this.c.maxReports, object: key }, 'report bound reached: objects past it get no report');
    }
    return true;
  }

  private async apply(key: string, rendered: RenderedReport, signal: AbortSignal): Promise<void> {
    const path = `${reportPath(rendered.kind, rendered.namespace, rendered.name)}?fieldManager=${REPORTS_FIELD_MANAGER}&force=true`;
    const waker = new Waker();
    for (let attempt = 0; attempt < MAX_ATTEMPTS && !signal.aborted; attempt++) {
      if (attempt > 0) await waker.wait(backoffMs(attempt, { baseMs: 200, maxMs: 5_000 }), signal);
      // The pace is on writes (every attempt is one), not on objects looked at: an object past a
      // bound, or with nothing to say, costs no write and waits for none.
      await this.pace.take(signal);
      if (signal.aborted) break;
      try {
        const res = await this.d.client.request('PATCH', path, { body: rendered.body, contentType: 'application/apply-patch+yaml' });
        if (res.status === 200 || res.status === 201) {
          this.written.set(key, rendered);
          this.inCluster.add(rendered.name);
          this.metrics.written.inc({ kind: rendered.kind.kind });
          return;
        }
        if (res.status === 404) {
          // The kind is gone (CRDs removed), or the namespace or owner is: look the kind up again.
          if (!(await this.checkCrds())) return;
        }
        if (res.status === 400 || res.status === 422 || res.status === 403) {
          this.metrics.failures.inc({ kind: rendered.kind.kind });
          this.d.logger.error({ object: key, status: res.status, body: res.body }, 'report write refused');
          return;
        }
        this.d.logger.debug({ object: key, status: res.status, attempt }, 'report write failed; retrying');
      } catch (err) {
        this.d.logger.debug(
          { object: key, err: { message: err instanceof Error ? err.message : String(err) }, attempt },
          'report write failed; retrying',
        );
      }
    }
    this.metrics.failures.inc({ kind: rendered.kind.kind });
    this.d.logger.warn({ object: key, attempts: MAX_ATTEMPTS }, 'report write failed; trying again later');
    this.retryLater(key);
  }

  private retryLater(key: string): void {
    if (!this.closed) {
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.enqueue(key);
      }, 30_000);
      timer.unref();
      this.retryTimers.add(timer);
    }
  }

  /** Waits for the report being written, drops the rest (the next leader writes them), releases the Lease. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    clearTimeout(this.crdTimer);
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    for (const t of this.retryTimers) clearTimeout(t);
    await this.queue.close(graceMs);
    await this.elector.close();
    await this.d.history?.close();
  }
}
