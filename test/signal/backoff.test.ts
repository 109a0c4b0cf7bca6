/** The waits the monitoring channels share: cut short by close, and a call that takes no signal stopped at the deadline. */
import { describe, expect, it } from 'vitest';
import { untilAborted, Waker } from '../../src/signal/backoff.js';

describe('Waker', () => {
  it('waits out its time unless woken, or unless its signal aborts', async () => {
    const waker = new Waker();
    let started = performance.now();
    await waker.wait(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);

    started = performance.now();
    const woken = waker.wait(60_000);
    waker.wake();
    await woken;
    expect(performance.now() - started).toBeLessThan(1_000);

    const abort = new AbortController();
    started = performance.now();
    const cut = waker.wait(60_000, abort.signal);
    setTimeout(() => abort.abort(), 10);
    await cut;
    expect(performance.now() - started).toBeLessThan(1_000);
    // An aborted signal: no wait at all.
    started = performance.now();
    await waker.wait(60_000, abort.signal);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('untilAborted', () => {
  it('passes the answer through, and stops waiting for a hanging call when the signal aborts', async () => {
    const abort = new AbortController();
    await expect(untilAborted(Promise.resolve(42), abort.signal)).resolves.toBe(42);
    await expect(untilAborted(Promise.reject(new Error('refused')), abort.signal)).rejects.toThrow('refused');
    const hanging = untilAborted(new Promise<number>(() => {}), abort.signal);
    setTimeout(() => abort.abort(), 10);
    await expect(hanging).rejects.toThrow('shutting down');
    await expect(untilAborted(Promise.resolve(1), abort.signal)).rejects.toThrow('shutting down');
  });
});
