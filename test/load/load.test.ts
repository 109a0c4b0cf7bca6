/**
 * Load without loss, against `node dist/cli.js serve` in its own process:
 * - 10,000 denied reviews at concurrency 50 produce exactly 10,000 records, one per uid;
 * - with SIGTERM sent mid-load, every review that got an answer has its record, no line is torn,
 *   and the process exits 0 once the records are flushed.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, pool } from '../support/client.js';
import { readJson } from '../support/fixtures.js';
import { spawnServe, type ServeProcess } from '../support/subprocess.js';

const TOTAL = 10_000;
const CONCURRENCY = 50;

/** The kubectl edit of an Argo CD Deployment (denied by argocd-prod), with a fresh uid per call. */
function deniedReview(): (uid: string) => string {
  const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
  review.request.uid = '@UID@';
  const [head, tail] = JSON.stringify(review).split('"@UID@"') as [string, string];
  return (uid) => `${head}${JSON.stringify(uid)}${tail}`;
}

interface Sent {
  answered: Set<string>;
  failed: Map<string, string>;
  denied: number;
}

async function load(proc: ServeProcess, opts: { onAnswer?: (answered: number) => void } = {}): Promise<Sent> {
  let gone = false;
  void proc.exited.then(() => (gone = true));
  const body = deniedReview();
  const client = createClient(proc.url, { ca: proc.ca, maxSockets: CONCURRENCY, timeoutMs: 20_000 });
  const sent: Sent = { answered: new Set(), failed: new Map(), denied: 0 };
  try {
    await pool(TOTAL, CONCURRENCY, async (i) => {
      if (gone) return; // nothing listens any more: the rest would only be refused
      const uid = `load-${i}`;
      const out = await client.post('/validate', body(uid));
      if (!out.ok) {
        sent.failed.set(uid, out.error);
        return;
      }
      if (out.answer.status !== 200) {
        sent.failed.set(uid, `HTTP ${out.answer.status}`);
        return;
      }
      const response = JSON.parse(out.answer.text).response;
      expect(response.uid).toBe(uid);
      if (response.allowed === false && response.status?.code === 403) sent.denied++;
      sent.answered.add(uid);
      opts.onAnswer?.(sent.answered.size);
    });
  } finally {
    client.close();
  }
  return sent;
}

/** Record lines as text; a file not ending in a newline keeps its torn last line, for parseAll to reject. */
function recordLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Parse every line; a torn line fails here. */
function parseAll(lines: string[]): any[] {
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`record line ${i + 1} is torn: ${line.slice(0, 120)}…${line.slice(-60)}`);
    }
  });
}

let proc: ServeProcess | undefined;
afterEach(() => {
  if (proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  proc = undefined;
});

describe('load without loss', () => {
  it(`writes exactly ${TOTAL} records for ${TOTAL} denied reviews at concurrency ${CONCURRENCY}`, async () => {
    proc = await spawnServe();
    const sent = await load(proc);
    expect(sent.failed).toEqual(new Map());
    expect(sent.denied).toBe(TOTAL);

    // The records reach the file while the server runs (asynchronous writes, not only at exit).
    const deadline = Date.now() + 10_000;
    while (recordLines(proc.recordsFile).length < TOTAL && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    const records = parseAll(recordLines(proc.recordsFile));
    expect(records).toHaveLength(TOTAL);
    const uids = new Set(records.map((r) => r.uid));
    expect(uids.size).toBe(TOTAL);
    expect([...sent.answered].every((u) => uids.has(u))).toBe(true);
    expect(records.every((r) => r.decision === 'denied' && r.policy === 'argocd-prod')).toBe(true);
  }, 90_000);

  it('keeps the record of every answered review when SIGTERM arrives mid-load; no line is torn', async () => {
    proc = await spawnServe(['--shutdown-grace', '5000']);
    const p = proc;
    let signalled = false;
    const sent = await load(p, {
      onAnswer: (n) => {
        if (!signalled && n >= 3_000) {
          signalled = true;
          p.child.kill('SIGTERM');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(await p.exited).toEqual({ code: 0, signal: null });

    // The load really was cut: 3,000 and more were answered, not all 10,000.
    expect(sent.answered.size).toBeGreaterThanOrEqual(3_000);
    expect(sent.answered.size).toBeLessThan(TOTAL);

    const records = parseAll(recordLines(p.recordsFile));
    const byUid = new Map<string, number>();
    for (const r of records) byUid.set(r.uid, (byUid.get(r.uid) ?? 0) + 1);
    const missing = [...sent.answered].filter((u) => !byUid.has(u));
    expect(missing).toEqual([]);
    // One record per review, and none for a review that was never sent.
    expect([...byUid.values()].every((n) => n === 1)).toBe(true);
    expect([...byUid.keys()].every((u) => sent.answered.has(u) || sent.failed.has(u))).toBe(true);
    expect(p.stderr()).not.toMatch(/"level":(50|60)/);
  }, 90_000);
});
