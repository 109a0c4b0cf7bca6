/**
 * Sends drift Events to the cluster off the admission path. `record` is synchronous and O(1): it
 * folds the signal into its aggregate (same object, reason and actor within the window: one Event,
 * count raised) and queues the aggregate once. One worker drains the queue under a token-bucket
 * rate limit, POSTing a new Event or PATCHing the count of one already sent. The queue is bounded;
 * what does not fit, what the API refuses and what keeps failing is counted as dropped. A slow,
 * failing or hanging API server stalls only this worker, never a request.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { QueueMeter } from '../signal/queue-meter.js';
import { backoffMs, Waker, type BackoffOptions } from '../signal/backoff.js';
import type { DriftSignal } from '../signal/signal.js';
import { aggregationKey, eventName, eventNamespace, eventObject, eventUpdate, type EventSource, type EventState } from './event.js';

/** The one call the recorder makes; KubeClient has it. */
export interface EventClient {
  request(
    method: string,
    path: string,
    opts: { body?: unknown; timeoutMs?: number; contentType?: string },
  ): Promise<{ status: number; body: unknown }>;
}

export interface EventRecorderOptions {
  client: EventClient;
  logger: Logger;
  clock: () => Date;
  meter: QueueMeter;
  source: EventSource;
  /** Repeats within this window raise the count of one Event. */
  windowMs?: number;
  /** Aggregates waiting to be sent, at most. */
  maxQueue?: number;
  /** Aggregates remembered, at most (each is a few hundred bytes). */
  maxAggregates?: number;
  /** API writes per second, and the burst allowed above it. */
  qps?: number;
  burst?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  /** Monotonic milliseconds for the rate limit (performance.now). */
  monotonic?: () => number;
}

export const EVENT_DEFAULTS = {
  windowMs: 10 * 60_000,
  maxQueue: 500,
  maxAggregates: 5_000,
  qps: 5,
  burst: 20,
  timeoutMs: 2_000,
  maxAttempts: 3,
  backoff: { baseMs: 500, maxMs: 10_000 },
} as const;

interface Aggregate extends EventState {
  key: string;
  namespace: string;
  windowEnd: number;
  posted: boolean;
  queued: boolean;
  /** The count the API server has. */
  sentCount: number;
}

export class EventRecorder {
  private readonly o: Required<EventRecorderOptions>;
  private readonly aggregates = new Map<string, Aggregate>();
  private readonly queue: Aggregate[] = [];
  private readonly waker = new Waker();
  private worker: Promise<void> | undefined;
  private closing = false;
  private stopped = false;
  private tokens: number;
  private refilledAt: number;
  private seq = 0;

  constructor(opts: EventRecorderOptions) {
    this.o = { ...EVENT_DEFAULTS, random: Math.random, monotonic: () => performance.now(), ...opts };
    this.tokens = this.o.burst;
    this.refilledAt = this.o.monotonic();
  }

  /** Fold one signal in. O(1), never throws, never waits. */
  record(signal: DriftSignal): void {
    if (this.closing) {
      this.o.meter.dropped('shutdown');
      return;
    }
    const now = this.o.clock();
    const key = aggregationKey(signal);
    let a = this.aggregates.get(key);
    if (a !== undefined && now.getTime() < a.windowEnd) {
      a.count++;
      a.last = now;
      a.signal = signal;
      this.enqueue(a);
      return;
    }
    if (a !== undefined) this.aggregates.delete(key);
    if (this.aggregates.size >= this.o.maxAggregates && !this.sweep(now.getTime())) {
      this.o.meter.dropped('queue_full');
      return;
    }
    a = {
      key,
      namespace: eventNamespace(signal),
      name: eventName(signal.target.name, now, this.seq++ % 1_000_000),
      signal,
      count: 1,
      sentCount: 0,
      first: now,
      last: now,
      windowEnd: now.getTime() + this.o.windowMs,
      posted: false,
      queued: false,
    };
    this.aggregates.set(key, a);
    this.enqueue(a);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Forget aggregates whose window has passed and that wait for nothing; true if room was made. */
  private sweep(now: number): boolean {
    for (const [k, a] of this.aggregates) if (a.windowEnd <= now && !a.queued) this.aggregates.delete(k);
    return this.aggregates.size < this.o.maxAggregates;
  }

  private enqueue(a: Aggregate): void {
    if (a.queued) return;
    if (this.queue.length >= this.o.maxQueue) {
      // The occurrence stays in the aggregate's count; a later one may still carry it to the API.
      this.o.meter.dropped('queue_full');
      return;
    }
    a.queued = true;
    this.queue.push(a);
    this.worker ??= this.run().finally(() => {
      this.worker = undefined;
    });
  }

  /** Wait for a token of the rate limit. */
  private async token(): Promise<void> {
    for (;;) {
      const now = this.o.monotonic();
      this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.o.qps);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.waker.wait(Math.ceil(((1 - this.tokens) / this.o.qps) * 1000));
      if (this.stopped) return;
    }
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      await this.token();
      if (this.stopped) break;
      const a = this.queue.shift()!;
      a.queued = false;
      await this.send(a);
    }
  }

  private async send(a: Aggregate): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const count = a.count;
      let problem: string;
      try {
        const res = a.posted
          ? await this.o.client.request(
              'PATCH',
              `/api/v1/namespaces/${encodeURIComponent(a.namespace)}/events/${encodeURIComponent(a.name)}`,
              {
                body: eventUpdate(a),
                contentType: 'application/merge-patch+json',
                timeoutMs: this.o.timeoutMs,
              },
            )
          : await this.o.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(a.namespace)}/events`, {
              body: eventObject(a, this.o.source),
              timeoutMs: this.o.timeoutMs,
            });
        if (res.status >= 200 && res.status < 300) {
          a.posted = true;
          a.sentCount = count;
          this.o.meter.sent();
          return;
        }
        if (res.status === 409 && !a.posted) {
          // An earlier POST that timed out did land: from now on, update it.
          a.posted = true;
          if (a.sentCount < a.count) this.enqueue(a);
          return;
        }
        if (res.status === 404 && a.posted) {
          // The Event expired (the API server keeps them about an hour): start a new one.
          a.posted = false;
          a.name = eventName(a.signal.target.name, this.o.clock(), this.seq++ % 1_000_000);
          a.first = a.last;
          a.count = Math.max(1, a.count - a.sentCount);
          a.sentCount = 0;
          this.enqueue(a);
          return;
        }
        problem = `HTTP ${res.status}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          // Forbidden (RBAC), invalid: retrying will not help.
          this.o.meter.dropped('rejected');
          this.o.logger.warn(
            { status: res.status, namespace: a.namespace, reason: eventObject(a, this.o.source).reason, body: summary(res.body) },
            'Event rejected by the API server',
          );
          return;
        }
      } catch (err) {
        problem = errorMessage(err);
      }
      if (attempt + 1 >= this.o.maxAttempts || this.stopped) {
        this.o.meter.dropped(this.stopped ? 'shutdown' : 'failed');
        this.o.logger.warn({ attempts: attempt + 1, problem, namespace: a.namespace }, 'Event not sent');
        return;
      }
      await this.waker.wait(backoffMs(attempt, this.o.backoff, this.o.random));
    }
  }

  /** Stop taking signals; send what is queued for at most `graceMs`; count the rest as dropped. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.worker !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.worker, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.stopped = true;
    this.waker.wake();
    if (this.queue.length > 0) {
      this.o.meter.dropped('shutdown', this.queue.length);
      for (const a of this.queue) a.queued = false;
      this.queue.length = 0;
    }
  }
}

function summary(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string')
    return (body as { message: string }).message;
  return undefined;
}
