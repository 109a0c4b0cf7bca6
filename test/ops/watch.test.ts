/** The directory watcher behind hot reload: debounce, interval fallback, no overlapping runs, close. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { watchDirectories, watchedDirectories } from '../../src/server/reload.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('watchDirectories', () => {
  it('turns a burst of changes into one run', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-watch-'));
    let runs = 0;
    const w = watchDirectories([dir], { debounceMs: 100, intervalMs: 0, logger, what: 'test' }, async () => {
      runs++;
    });
    try {
      for (let i = 0; i < 20; i++) writeFileSync(path.join(dir, `f${i}`), String(i));
      await sleep(400);
      expect(runs).toBe(1);
    } finally {
      w.close();
    }
  });

  it('re-reads on the interval when no event comes (filesystems where fs.watch is silent)', async () => {
    let runs = 0;
    const w = watchDirectories([], { debounceMs: 10, intervalMs: 40, logger, what: 'test' }, async () => {
      runs++;
    });
    await sleep(230);
    w.close();
    expect(runs).toBeGreaterThanOrEqual(3);
    const after = runs;
    await sleep(100);
    expect(runs).toBe(after);
  });

  it('never runs two checks at once, and runs once more for a change that came during a run', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const w = watchDirectories([], { debounceMs: 10, intervalMs: 0, logger, what: 'test' }, async () => {
      active++;
      most = Math.max(most, active);
      runs++;
      await sleep(50);
      active--;
    });
    await Promise.all([w.trigger(), w.trigger(), w.trigger(), w.trigger()]);
    await sleep(120);
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
    w.close();
    writeFileSync(path.join(dir, 'late'), 'x');
    await sleep(150);
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
