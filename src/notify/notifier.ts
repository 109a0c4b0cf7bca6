/**
 * A notification channel: signals go into a bounded queue (never waiting, never failing: the caller
 * is the admission path); one worker sends them in batches, retries a failed batch with exponential
 * backoff, and counts what it has to drop. A slow, failing or hanging receiver costs queue space and
 * dropped-notification counts, never admission latency.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
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

export const NOTIFY_DEFAULTS = {
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
  private readonly queue: DriftSignal[] = [];
  private readonly waker = new Waker();
  private readonly abort = new AbortController();
  private worker: Promise<void> | undefined;
  private closing = false;
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
  }

  /** Queue one signal. O(1), never throws, never waits. */
  notify(signal: DriftSignal): void {
    if (this.closing || this.queue.length >= this.o.maxQueue) {
      this.o.meter.dropped(this.closing ? 'shutdown' : 'queue_full');
      return;
    }
    this.queue.push(signal);
    if (this.queue.length >= this.o.batchSize) this.waker.wake();
    this.worker ??= this.run().finally(() => {
      this.worker = undefined;
    });
  }

  /** Signals waiting to be sent (for tests and the shutdown log). */
  get pending(): number {
    return this.queue.length;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0 && !this.abort.signal.aborted) {
      if (this.queue.length < this.o.batchSize && !this.closing) await this.waker.wait(this.o.flushMs);
      const batch = this.queue.splice(0, this.o.batchSize);
      await this.deliver(batch);
    }
  }

  private async deliver(batch: DriftSignal[]): Promise<void> {
    const body = this.o.format.body(batch, this.o.clock());
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined;
      let problem: string;
      try {
        const res = await this.o.post(this.o.url, body, { timeoutMs: this.o.timeoutMs, signal: this.abort.signal, now: this.o.clock() });
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
      if (attempt + 1 >= this.o.maxAttempts || this.abort.signal.aborted) {
        this.o.meter.dropped(this.abort.signal.aborted ? 'shutdown' : 'failed', batch.length);
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
      await this.waker.wait(delay);
    }
  }

  /**
   * Stop taking signals and send what is queued, for at most `graceMs`; then cut in-flight sends
   * and count what is left as dropped.
   */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    this.waker.wake();
    if (this.worker !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.worker, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    this.abort.abort();
    this.waker.wake();
    await this.worker;
    if (this.queue.length > 0) {
      this.o.meter.dropped('shutdown', this.queue.length);
      this.queue.length = 0;
    }
  }
}
