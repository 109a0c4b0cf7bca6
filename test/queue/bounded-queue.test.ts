import { describe, expect, it } from 'vitest';
import { BoundedQueue, type QueueDropReason } from '../../src/queue/bounded-queue.js';
import { steady, until } from '../support/wait.js';

/** Work a handler does that takes a while (not a wait for anything). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler that holds each call until the test lets it go. */
function gate() {
  const waiting: Array<() => void> = [];
  return {
    waiting,
    hold: () => new Promise<void>((resolve) => waiting.push(resolve)),
    releaseAll: () => {
      for (const r of waiting.splice(0)) r();
    },
  };
}

function drops() {
  const seen: Array<[QueueDropReason, number[]]> = [];
  return { seen, onDrop: (items: readonly number[], reason: QueueDropReason) => seen.push([reason, [...items]]) };
}

describe('BoundedQueue', () => {
  it('hands items over in order, never on the caller’s turn', async () => {
    const got: number[] = [];
    const q = new BoundedQueue<number>({ capacity: 10, handle: ([n]) => void got.push(n!) });
    for (let i = 0; i < 5; i++) expect(q.push(i)).toBe(true);
    expect(got).toEqual([]);
    expect(q.pending).toBe(5);
    await q.drain();
    expect(got).toEqual([0, 1, 2, 3, 4]);
    expect(q.pending).toBe(0);
  });

  it('refuses what does not fit, reports it as full, and keeps what it took', async () => {
    const g = gate();
    const d = drops();
    const got: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 3,
      handle: async ([n]) => {
        got.push(n!);
        await g.hold();
      },
      onDrop: d.onDrop,
    });
    expect([1, 2, 3, 4, 5].map((n) => q.push(n))).toEqual([true, true, true, false, false]);
    expect(d.seen).toEqual([
      ['full', [4]],
      ['full', [5]],
    ]);
    await until(() => g.waiting.length === 1, 5_000, 'the worker to take 1');
    // The worker holds 1: two places are free again.
    expect(got).toEqual([1]);
    expect(q.push(6)).toBe(true);
    expect(q.push(7)).toBe(false);
    const done = q.drain();
    // Let each held item go as the worker takes the next: 2, 3, then 6.
    for (let k = 2; k <= 4; k++) {
      g.releaseAll();
      await until(() => got.length === k && g.waiting.length === 1, 5_000, `item ${k}`);
    }
    g.releaseAll();
    await done;
    expect(got).toEqual([1, 2, 3, 6]);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    let running = 0;
    let most = 0;
    const q = new BoundedQueue<number>({
      capacity: 20,
      concurrency: 3,
      handle: async () => {
        running++;
        most = Math.max(most, running);
        await sleep(5);
        running--;
      },
    });
    for (let i = 0; i < 12; i++) q.push(i);
    await q.drain();
    expect(most).toBe(3);
  });

  it('batches: a worker waits for company, and a full batch ends the wait early', async () => {
    const batches: number[][] = [];
    const q = new BoundedQueue<number>({ capacity: 20, batch: { size: 3, waitMs: 60_000 }, handle: (b) => void batches.push(b) });
    const started = performance.now();
    for (let i = 0; i < 7; i++) q.push(i);
    await until(() => batches.length === 2, 5_000, 'the two full batches');
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    // The seventh waits for company: close does not wait out the window.
    await q.close(1_000);
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a worker waiting for company starts as soon as the batch is full', async () => {
    const batches: number[][] = [];
    const q = new BoundedQueue<number>({ capacity: 20, batch: { size: 3, waitMs: 60_000 }, handle: (b) => void batches.push(b) });
    q.push(1);
    q.push(2);
    // Not a batch yet: nothing is handed over, however long it stays so.
    expect(await steady(() => batches.length, 20)).toBe(0);
    q.push(3);
    await until(() => batches.length === 1, 5_000, 'the full batch');
    expect(batches).toEqual([[1, 2, 3]]);
    await q.close(100);
  });

  it('a handler that throws is reported and the queue goes on', async () => {
    const errors: Array<[string, number[]]> = [];
    const got: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 10,
      handle: async ([n]) => {
        if (n === 2) throw new Error('disk full');
        if (n === 3) await Promise.reject(new Error('later'));
        got.push(n!);
      },
      onError: (err, items) => errors.push([(err as Error).message, [...items]]),
    });
    for (let i = 1; i <= 5; i++) q.push(i);
    await q.drain();
    expect(got).toEqual([1, 4, 5]);
    expect(errors).toEqual([
      ['disk full', [2]],
      ['later', [3]],
    ]);
    q.push(6);
    await q.drain();
    expect(got).toEqual([1, 4, 5, 6]);
  });

  it('an onDrop or onError that throws breaks neither push nor the worker', async () => {
    const got: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 1,
      handle: ([n]) => {
        if (n === 0) throw new Error('bad');
        got.push(n!);
      },
      onDrop: () => {
        throw new Error('metrics broke');
      },
      onError: () => {
        throw new Error('logger broke');
      },
    });
    expect(q.push(0)).toBe(true);
    expect(q.push(9)).toBe(false);
    await q.drain();
    expect(q.push(1)).toBe(true);
    await q.drain();
    expect(got).toEqual([1]);
  });

  it('close drains what is queued within the grace, and refuses new items as closed', async () => {
    const d = drops();
    const got: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 10,
      handle: async ([n]) => {
        await sleep(2);
        got.push(n!);
      },
      onDrop: d.onDrop,
    });
    for (let i = 0; i < 4; i++) q.push(i);
    await q.close(2_000);
    expect(got).toEqual([0, 1, 2, 3]);
    expect(q.closed).toBe(true);
    expect(q.push(9)).toBe(false);
    expect(d.seen).toEqual([['closed', [9]]]);
  });

  it('close while busy: at the deadline it aborts the handler, drops the rest and waits for the handler to return', async () => {
    const d = drops();
    let taken = false;
    let aborted = false;
    let returned = false;
    const q = new BoundedQueue<number>({
      capacity: 10,
      handle: async (_items, signal) => {
        taken = true;
        // A handler that hangs until told to stop.
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        aborted = signal.aborted;
        await sleep(10);
        returned = true;
      },
      onDrop: d.onDrop,
    });
    for (let i = 0; i < 4; i++) q.push(i);
    await until(() => taken, 5_000, 'the worker to take 0');
    const started = performance.now();
    await q.close(50);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(45);
    expect(took).toBeLessThan(1_000);
    expect(aborted).toBe(true);
    expect(returned).toBe(true);
    expect(d.seen).toEqual([['deadline', [1, 2, 3]]]);
    expect(q.pending).toBe(0);
  });

  it('a handler’s follow-up is taken while close drains, and refused after the deadline', async () => {
    const d = drops();
    const got: number[] = [];
    const q: BoundedQueue<number> = new BoundedQueue<number>({
      capacity: 10,
      handle: async ([n], signal) => {
        got.push(n!);
        if (n! < 3) q.followUp(n! + 1);
        if (n === 3) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        if (n === 3) q.followUp(99);
      },
      onDrop: d.onDrop,
    });
    q.push(1);
    await q.close(50);
    expect(got).toEqual([1, 2, 3]);
    expect(q.push(7)).toBe(false);
    expect(d.seen).toEqual([
      ['closed', [99]],
      ['closed', [7]],
    ]);
  });

  it('pace runs before each take and the items stay queued while it waits', async () => {
    const got: number[] = [];
    let release: (() => void) | undefined;
    const q = new BoundedQueue<number>({
      capacity: 10,
      pace: () => new Promise<void>((resolve) => (release = resolve)),
      handle: ([n]) => void got.push(n!),
    });
    q.push(1);
    q.push(2);
    await until(() => release !== undefined, 5_000, 'the worker to pace');
    expect(got).toEqual([]);
    expect(q.pending).toBe(2);
    const first = release!;
    release = undefined;
    first();
    await until(() => got.length === 1 && release !== undefined, 5_000, 'the first take and the next pace');
    expect(got).toEqual([1]);
    expect(q.pending).toBe(1);
    release!();
    await q.drain();
    expect(got).toEqual([1, 2]);
  });

  it('a pace that throws is reported and does not stall the queue', async () => {
    const errors: string[] = [];
    const got: number[] = [];
    const q = new BoundedQueue<number>({
      capacity: 10,
      pace: () => Promise.reject(new Error('clock broke')),
      handle: ([n]) => void got.push(n!),
      onError: (err) => errors.push((err as Error).message),
    });
    q.push(1);
    q.push(2);
    await q.drain();
    expect(got).toEqual([1, 2]);
    expect(errors).toEqual(['clock broke', 'clock broke']);
  });
});
