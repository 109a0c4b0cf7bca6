/**
 * A notification channel: signals go into a bounded queue (never waiting, never failing: the caller
 * is the admission path); one worker sends them in batches, retries a failed batch with exponential
 * backoff, and counts what it has to drop. A slow, failing or hanging receiver costs queue space and
 * dropped-notification counts, never admission latency.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { BoundedQueue } from '../queue/bounded-queue.js';
import type { QueueMeter } from '../signal/queue-meter.js';
import { backoffMs, Waker, type BackoffOptions } from '../signal/backoff.js';
import type { DriftSignal } from '../signal/signal.js';
import type { NotificationFormat } from './format.js';
import { redactUrl, type PostJson } from './post.js';

export interface NotifierOptions {
  url: string;
  format: NotificationFormat;
  post: PostJson;
  logger: Logger;
  clock: () => Date;
  meter: QueueMeter;
  /** Signals per message (capped by the format's own limit). */
  batchSize?: number;
  /** How long the first signal of a batch waits for company. */
  flushMs?: number;
  /** Signals waiting at most; more are dropped and counted. */
  maxQueue?: number;
  /** Sends of one batch at most before it is dropped. */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Per POST. */
  timeoutMs?: number;
  random?: () => number;
}

const NOTIFY_DEFAULTS = {
  batchSize: 20,
  flushMs: 2_000,
  maxQueue: 1_000,
  maxAttempts: 5,
  backoff: { baseMs: 500, maxMs: 30_000 },
  timeoutMs: 5_000,
} as const;

export class Notifier {
  readonly name: string;
  private readonly o: Required<Omit<NotifierOptions, 'random'>> & { random: () => number };
  private readonly queue: BoundedQueue<DriftSignal>;
  /** Cuts a retry's backoff short when close begins (and, through the signal, at its deadline). */
  private readonly waker = new Waker();
  private readonly target: string;

  constructor(opts: NotifierOptions) {
    this.o = {
      ...NOTIFY_DEFAULTS,
      random: Math.random,
      ...opts,
      batchSize: Math.min(opts.batchSize ?? NOTIFY_DEFAULTS.batchSize, opts.format.maxBatch),
    };
    this.name = opts.format.name;
    this.target = redactUrl(opts.url);
    this.queue = new BoundedQueue<DriftSignal>({
      capacity: this.o.maxQueue,
      batch: { size: this.o.batchSize, waitMs: this.o.flushMs },
      handle: (batch, signal) => this.deliver(batch, signal),
      onDrop: (items, reason) => this.o.meter.dropped(reason === 'full' ? 'queue_full' : 'shutdown', items.length),
      onError: (err, items) => {
        this.o.meter.dropped('failed', items.length);
        this.o.logger.warn(
          { sink: this.name, target: this.target, problem: errorMessage(err), dropped: items.length },
          'notification failed',
        );
      },
    });
  }

  /** Queue one signal. O(1), never throws, never waits. */
  notify(signal: DriftSignal): void {
    this.queue.push(signal);
  }

  /** Signals waiting to be sent (for tests and the shutdown log). */
  get pending(): number {
    return this.queue.pending;
  }

  private async deliver(batch: DriftSignal[], abort: AbortSignal): Promise<void> {
    const body = this.o.format.body(batch, this.o.clock());
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined;
      let problem: string;
      try {
        const res = await this.o.post(this.o.url, body, { timeoutMs: this.o.timeoutMs, signal: abort, now: this.o.clock() });
        if (res.status >= 200 && res.status < 300) {
          this.o.meter.sent(batch.length);
          return;
        }
        problem = `HTTP ${res.status}`;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          // The receiver refuses this message (bad URL, revoked token): sending it again will not help.
          this.o.meter.dropped('rejected', batch.length);
          this.o.logger.warn({ sink: this.name, target: this.target, status: res.status, dropped: batch.length }, 'notification rejected');
          return;
        }
        wait = res.retryAfterMs;
      } catch (err) {
        problem = errorMessage(err);
      }
      if (attempt + 1 >= this.o.maxAttempts || abort.aborted) {
        this.o.meter.dropped(abort.aborted ? 'shutdown' : 'failed', batch.length);
        this.o.logger.warn(
          { sink: this.name, target: this.target, attempts: attempt + 1, problem, dropped: batch.length },
          'notification failed',
        );
        return;
      }
      const delay = Math.min(wait ?? backoffMs(attempt, this.o.backoff, this.o.random), this.o.backoff.maxMs);
      this.o.logger.debug(
        { sink: this.name, target: this.target, attempt: attempt + 1, problem, retryInMs: delay },
        'notification failed; retrying',
      );
      await this.waker.wait(delay, abort);
    }
  }

  /**
   * Stop taking signals and send what is queued, for at most `graceMs`; then cut in-flight sends
   * and count what is left as dropped.
   */
  async close(graceMs: number): Promise<void> {
    const closed = this.queue.close(graceMs);
    this.waker.wake();
    await closed;
  }
}
