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
import { BoundedQueue } from '../queue/bounded-queue.js';
import type { QueueMeter } from '../signal/queue-meter.js';
import { backoffMs, untilAborted, Waker, type BackoffOptions } from '../signal/backoff.js';
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

const EVENT_DEFAULTS = {
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
  private readonly queue: BoundedQueue<Aggregate>;
  /** The rate limit's and a retry's waits; close's deadline (the queue's signal) cuts them short. */
  private readonly waker = new Waker();
  private tokens: number;
  private refilledAt: number;
  private seq = 0;

  constructor(opts: EventRecorderOptions) {
    this.o = { ...EVENT_DEFAULTS, random: Math.random, monotonic: () => performance.now(), ...opts };
    this.tokens = this.o.burst;
    this.refilledAt = this.o.monotonic();
    this.queue = new BoundedQueue<Aggregate>({
      capacity: this.o.maxQueue,
      pace: (signal) => this.token(signal),
      handle: ([a], signal) => {
        a!.queued = false;
        return this.send(a!, signal);
      },
      onDrop: (items, reason) => {
        // A full queue: the occurrence stays in the aggregate's count; a later one may still carry it to the API.
        for (const a of items) a.queued = false;
        this.o.meter.dropped(reason === 'full' ? 'queue_full' : 'shutdown', items.length);
      },
      onError: (err, items) => {
        this.o.meter.dropped('failed', items.length);
        this.o.logger.warn({ problem: errorMessage(err) }, 'Event not sent');
      },
    });
  }

  /** Fold one signal in. O(1), never throws, never waits. */
  record(signal: DriftSignal): void {
    if (this.queue.closed) {
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
    return this.queue.pending;
  }

  /** Forget aggregates whose window has passed and that wait for nothing; true if room was made. */
  private sweep(now: number): boolean {
    for (const [k, a] of this.aggregates) if (a.windowEnd <= now && !a.queued) this.aggregates.delete(k);
    return this.aggregates.size < this.o.maxAggregates;
  }

  /** Queue an aggregate once; `followUp` for the worker's own re-sends, which close lets finish. */
  private enqueue(a: Aggregate, followUp = false): void {
    if (a.queued) return;
    a.queued = true;
    if (followUp) this.queue.followUp(a);
    else this.queue.push(a);
  }

  /** Wait for a token of the rate limit. */
  private async token(signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.o.monotonic();
      this.tokens = Math.min(this.o.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.o.qps);
      this.refilledAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.waker.wait(Math.ceil(((1 - this.tokens) / this.o.qps) * 1000), signal);
      if (signal.aborted) return;
    }
  }

  private async send(a: Aggregate, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const count = a.count;
      let problem: string;
      try {
        // The client takes no signal: close's deadline stops waiting for it (the request may still land).
        const res = await untilAborted(
          a.posted
            ? this.o.client.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(a.namespace)}/events/${encodeURIComponent(a.name)}`, {
                body: eventUpdate(a),
                contentType: 'application/merge-patch+json',
                timeoutMs: this.o.timeoutMs,
              })
            : this.o.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(a.namespace)}/events`, {
                body: eventObject(a, this.o.source),
                timeoutMs: this.o.timeoutMs,
              }),
          signal,
        );
        if (res.status >= 200 && res.status < 300) {
          a.posted = true;
          a.sentCount = count;
          this.o.meter.sent();
          return;
        }
        if (res.status === 409 && !a.posted) {
          // An earlier POST that timed out did land: from now on, update it.
          a.posted = true;
          if (a.sentCount < a.count) this.enqueue(a, true);
          return;
        }
        if (res.status === 404 && a.posted) {
          // The Event expired (the API server keeps them about an hour): start a new one.
          a.posted = false;
          a.name = eventName(a.signal.target.name, this.o.clock(), this.seq++ % 1_000_000);
          a.first = a.last;
          a.count = Math.max(1, a.count - a.sentCount);
          a.sentCount = 0;
          this.enqueue(a, true);
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
      if (attempt + 1 >= this.o.maxAttempts || signal.aborted) {
        this.o.meter.dropped(signal.aborted ? 'shutdown' : 'failed');
        this.o.logger.warn({ attempts: attempt + 1, problem, namespace: a.namespace }, 'Event not sent');
        return;
      }
      await this.waker.wait(backoffMs(attempt, this.o.backoff, this.o.random), signal);
    }
  }

  /** Stop taking signals; send what is queued for at most `graceMs`; count the rest as dropped. */
  close(graceMs: number): Promise<void> {
    return this.queue.close(graceMs);
  }
}

function summary(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string')
    return (body as { message: string }).message;
  return undefined;
}
