/**
 * What validating a review costs (printed, not gated; `npm run bench:admission-parse`): parseReview
 * (src/admission/review.ts) over each sample review of test/fixtures/reviews (the three written
 * ones and the captured ones), on bodies JSON.parse'd beforehand, so the figure is the validator's
 * own work: µs of CPU per review, the least of a few runs (other processes on the core only ever
 * add to a run's figure). DG_BENCH_PARSE_MS sets each run's length (default 300).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseReview } from '../../src/admission/review.js';

const MS = Number(process.env.DG_BENCH_PARSE_MS ?? 300);
const REPEATS = 5;
const BATCH = 200;
const DIR = path.resolve(import.meta.dirname, '../fixtures/reviews');

function samples(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const sub of ['', 'captured']) {
    for (const f of readdirSync(path.join(DIR, sub))
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      out.push({ name: path.join(sub, f.replace(/\.json$/, '')), text: readFileSync(path.join(DIR, sub, f), 'utf8') });
    }
  }
  return out;
}

/** µs of CPU per parseReview call on this review: bodies parsed outside the timed part. */
function perReview(text: string): number {
  let best = Infinity;
  for (let rep = 0; rep < REPEATS; rep++) {
    let cpu = 0;
    let calls = 0;
    const until = performance.now() + MS;
    while (performance.now() < until) {
      const bodies: unknown[] = Array.from({ length: BATCH }, () => JSON.parse(text));
      const start = process.cpuUsage();
      for (const b of bodies) {
        if (!parseReview(b).ok) throw new Error('a sample review did not parse');
      }
      const used = process.cpuUsage(start);
      cpu += used.user + used.system;
      calls += BATCH;
    }
    best = Math.min(best, cpu / calls);
  }
  return best;
}

const all = samples();
const rows = all.map((s) => ({ name: s.name, kb: s.text.length / 1024, us: perReview(s.text) }));
for (const r of rows) console.log(`${r.name.padEnd(48)} ${r.kb.toFixed(1).padStart(6)} KB  ${r.us.toFixed(2).padStart(7)} µs/review`);
const mean = rows.reduce((a, r) => a + r.us, 0) / rows.length;
console.log(`mean over ${rows.length} sample reviews: ${mean.toFixed(2)} µs/review`);
