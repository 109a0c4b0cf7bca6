/** The directory watcher behind hot reload: debounce, interval fallback, no overlapping runs, close. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchDirectories, watchedDirectories } from '../../src/server/reload.js';
import { until } from '../support/wait.js';

const logger = pino({ level: 'silent' });
/** The debounce and the interval are timers: the tests that need no file event run them on a fake clock. */
const fakeClock = () => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });

describe('watchDirectories', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns a burst of changes into one run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-watch-'));
    let runs = 0;
    const w = watchDirectories([dir], { debounceMs: 100, intervalMs: 0, logger, what: 'test' }, async () => {
      runs++;
    });
    try {
      for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, `f${i}`), String(i));
      // Without the debounce the first event's run would be followed at once by another (the
      // events during it), before this poll could see 1.
      await until(() => runs > 0, 5_000, 'the run after the burst');
      expect(runs).toBe(1);
    } finally {
      w.close();
    }
  });

  it('re-reads on the interval when no event comes (filesystems where fs.watch is silent)', async () => {
    fakeClock();
    let runs = 0;
    const w = watchDirectories([], { debounceMs: 10, intervalMs: 40, logger, what: 'test' }, async () => {
      runs++;
    });
    await vi.advanceTimersByTimeAsync(230);
    w.close();
    expect(runs).toBe(5);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(5);
  });

  it('never runs two checks at once, and runs once more for a change that came during a run', async () => {
    fakeClock();
    let active = 0;
    let most = 0;
    let runs = 0;
    const w = watchDirectories([], { debounceMs: 10, intervalMs: 0, logger, what: 'test' }, async () => {
      active++;
      most = Math.max(most, active);
      runs++;
      await new Promise((r) => setTimeout(r, 50));
      active--;
    });
    const all = Promise.all([w.trigger(), w.trigger(), w.trigger(), w.trigger()]);
    await vi.advanceTimersByTimeAsync(120);
    await all;
    w.close();
    expect(most).toBe(1);
    expect(runs).toBe(2);
  });

  it('keeps going after a check throws', async () => {
    let runs = 0;
    const w = watchDirectories([], { debounceMs: 10, intervalMs: 0, logger, what: 'test' }, async () => {
      runs++;
      if (runs === 1) throw new Error('boom');
    });
    await w.trigger();
    await w.trigger();
    w.close();
    expect(runs).toBe(2);
  });

  it('stops on close: later changes run nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-watch-'));
    let runs = 0;
    const w = watchDirectories([dir], { debounceMs: 20, intervalMs: 20, logger, what: 'test' }, async () => {
      runs++;
    });
    fakeClock();
    w.close();
    writeFileSync(path.join(dir, 'late'), 'x');
    // Past the debounce and several intervals: neither timer is left to fire.
    await vi.advanceTimersByTimeAsync(150);
    expect(vi.getTimerCount()).toBe(0);
    expect(runs).toBe(0);
  });
});

describe('watchedDirectories', () => {
  it('watches a directory itself and a file through its parent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-watch-'));
    writeFileSync(path.join(dir, 'tls.crt'), 'x');
    writeFileSync(path.join(dir, 'tls.key'), 'x');
    expect(await watchedDirectories([path.join(dir, 'tls.crt'), path.join(dir, 'tls.key')])).toEqual([dir]);
    expect(await watchedDirectories([dir])).toEqual([dir]);
  });
});
