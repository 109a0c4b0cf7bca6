/** The parents' marks cache (src/cluster/parents.ts): bounded, keeps what is used, forgets deletes. */
import { describe, expect, it } from 'vitest';
import { MarksCache } from '../../src/cluster/parents.js';

const marks = (n: number) => ({ labels: { n: String(n) }, annotations: {} });

describe('MarksCache', () => {
  it('holds at most maxEntries objects, however many are written', () => {
    const cache = new MarksCache(10);
    for (let n = 0; n < 1_000; n++) cache.set(`k${n}`, marks(n));
    expect(cache.size).toBeLessThanOrEqual(10);
    expect(cache.get('k999')).toEqual(marks(999));
    expect(cache.get('k0')).toBeUndefined();
  });

  it('keeps an object that is read while others come and go', () => {
    const cache = new MarksCache(10);
    cache.set('hot', marks(-1));
    for (let n = 0; n < 1_000; n++) {
      cache.set(`k${n}`, marks(n));
      expect(cache.get('hot')).toEqual(marks(-1));
    }
  });

  it('forgets a deleted object in both generations, and a rewrite replaces the value', () => {
    const cache = new MarksCache(4);
    cache.set('a', marks(1));
    cache.set('b', marks(2)); // the young generation is full: a and b age
    cache.set('a', marks(3));
    expect(cache.get('a')).toEqual(marks(3));
    cache.delete('a');
    cache.delete('b');
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
