/**
 * What one hostile review may cost the event loop. The handler runs on the one admission thread, so
 * a body that costs a second blocks every other review for that second. Bounds are generous (the
 * minimum of a few runs, on a shared two-core machine) but an order of magnitude below what the
 * quadratic behaviour they pin used to cost.
 */
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/admission/handler.js';
import { parseReview } from '../../src/admission/review.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import type { PolicySet } from '../../src/policy/set.js';
import { memorySink } from '../../src/records/sink.js';
import { readJson, SAMPLE_POLICIES } from '../support/fixtures.js';
import { policies } from '../support/judge.js';

let set: PolicySet;
beforeAll(async () => {
  set = await policies(SAMPLE_POLICIES);
});

/** The kubectl edit fixture with `spec` of object and oldObject replaced by the given JSON texts. */
function withSpecs(objectSpec: string, oldSpec: string): string {
  const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
  review.request.object.spec = '@NEW@';
  review.request.oldObject.spec = '@OLD@';
  return JSON.stringify(review).replace('"@NEW@"', objectSpec).replace('"@OLD@"', oldSpec);
}

/** Fastest of `runs` parse+judge rounds, in ms, and the last outcome. */
async function cost(text: string, runs = 5): Promise<{ ms: number; allowed: boolean; records: any[] }> {
  let best = Infinity;
  let last = { allowed: true, records: [] as any[] };
  for (let i = 0; i < runs; i++) {
    const records = memorySink();
    const started = performance.now();
    const parsed = parseReview(JSON.parse(text));
    if (!parsed.ok) throw new Error(parsed.message);
    const out = await validate(parsed.request, {
      policies: () => set,
      parents: new ParentResolver(),
      records,
      clock: () => new Date('2026-11-24T12:00:00Z'),
      logger: pino({ level: 'silent' }),
    });
    best = Math.min(best, performance.now() - started);
    last = { allowed: out.response.allowed, records: records.records };
  }
  return { ms: best, ...last };
}

describe('the cost of one hostile review', () => {
  it('judges a 30,000-deep UPDATE in milliseconds, not the half second long paths once cost', async () => {
    const depth = 30_000;
    const deep = (leaf: string) => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
    const r = await cost(withSpecs(deep('2'), deep('1')));
    expect(r.allowed).toBe(false);
    // The change is found at the bottom, and recorded.
    expect(r.records[0].changes[0].path).toHaveLength('/spec'.length + 2 * depth);
    expect(r.ms).toBeLessThan(150);
  });

  it('bounds the diff of two 100,000-item arrays (10,000 changes at most) and says the list is cut', async () => {
    const n = 100_000;
    const r = await cost(withSpecs(`{"items":[${'1,'.repeat(n - 1)}1]}`, `{"items":[${'2,'.repeat(n - 1)}2]}`), 3);
    expect(r.allowed).toBe(false);
    expect(r.records[0].changes).toHaveLength(100);
    expect(r.records[0].changes[0].path).toBe('/spec/items/0');
    expect(r.records[0].changesOmitted).toBe(10_000 - 100 + 1);
    expect(r.ms).toBeLessThan(1_000);
  });

  it('fails closed when a body is larger than the diff will walk (300,000-item arrays): denied, recorded as cut', async () => {
    const n = 300_000;
    const r = await cost(withSpecs(`{"items":[${'1,'.repeat(n - 1)}1]}`, `{"items":[${'1,'.repeat(n - 1)}1]}`), 3);
    // Nothing differs, but driftguard cannot know that within its budget: it does not allow blindly.
    expect(r.allowed).toBe(false);
    expect(r.records[0].changesOmitted).toBeGreaterThanOrEqual(1);
    expect(r.ms).toBeLessThan(1_000);
  });
});
