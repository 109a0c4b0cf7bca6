/**
 * A denial the user was told about is on disk: each violation record is written to the file (a
 * write(2), not only buffered in the process) before its answer is sent. SIGKILL right after a
 * burst of denials — no flush, no shutdown — and every answered denial is in the file.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, pool } from '../support/client.js';
import { readJson } from '../support/fixtures.js';
import { spawnServe, type ServeProcess } from '../support/subprocess.js';

let proc: ServeProcess | undefined;
afterEach(() => {
  proc?.child.kill('SIGKILL');
  proc = undefined;
});

function deniedReview(): (uid: string) => string {
  const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
  review.request.uid = '@UID@';
  const [head, tail] = JSON.stringify(review).split('"@UID@"') as [string, string];
  return (uid) => `${head}${JSON.stringify(uid)}${tail}`;
}

describe('durable denials', () => {
  it.each([1, 2, 3])('burst %i: SIGKILL right after the last answer loses no answered denial', async (round) => {
    proc = await spawnServe();
    const body = deniedReview();
    const client = createClient(proc.url, { ca: proc.ca, maxSockets: 8, timeoutMs: 20_000 });
    const answered: string[] = [];
    try {
      await pool(60, 8, async (i) => {
        const uid = `durable-${round}-${i}`;
        const out = await client.post('/validate', body(uid));
        if (out.ok && out.answer.status === 200 && JSON.parse(out.answer.text).response.allowed === false) answered.push(uid);
      });
    } finally {
      client.close();
    }
    proc.child.kill('SIGKILL');
    await proc.exited;
    expect(answered).toHaveLength(60);
    const lines = readFileSync(proc.recordsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    const onDisk = new Set(
      lines
        .map((l) => JSON.parse(l))
        .filter((r) => r.type === 'violation')
        .map((r) => r.uid),
    );
    expect(answered.filter((uid) => !onDisk.has(uid))).toEqual([]);
  });
});
