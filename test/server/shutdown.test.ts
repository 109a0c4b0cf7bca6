/** SIGTERM and SIGINT flush every record before the process exits (production build, real process). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { edited, object } from '../support/fixtures.js';
import { postJson } from '../support/https.js';
import { jane } from '../support/identities.js';
import { spawnServe } from '../support/subprocess.js';

const web = object('deployment-prod-web');

async function deniedBurst(url: string, ca: string, n: number): Promise<string[]> {
  const uids: string[] = [];
  const batch = 25;
  for (let i = 0; i < n; i += batch) {
    const results = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) => {
        const review = buildReview({
          operation: 'UPDATE',
          userInfo: jane(),
          object: edited(web, (o) => (o.spec.replicas = i + j + 10)),
          oldObject: web,
          fieldManager: 'kubectl-edit',
        });
        return postJson(`${url}/validate`, review, { ca }).then((r) => {
          expect(r.json.response.allowed).toBe(false);
          return r.json.response.uid as string;
        });
      }),
    );
    uids.push(...results);
  }
  return uids;
}

describe('graceful stop', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: every answered request has its record on disk, and the process exits 0`, async () => {
      const proc = await spawnServe();
      const uids = await deniedBurst(proc.url, proc.ca, 300);
      proc.child.kill(signal);
      const exit = await proc.exited;
      expect(exit.code).toBe(0);
      const lines = readFileSync(proc.recordsFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      const recorded = new Set(lines.map((l) => JSON.parse(l).uid));
      expect(lines).toHaveLength(300);
      expect(uids.every((u) => recorded.has(u))).toBe(true);
    });
  }

  it('a restart appends to the records file rather than truncating it', async () => {
    const first = await spawnServe();
    await deniedBurst(first.url, first.ca, 5);
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await spawnServe(['--records', first.recordsFile]);
    await deniedBurst(second.url, second.ca, 3);
    second.child.kill('SIGTERM');
    await second.exited;
    expect(
      readFileSync(first.recordsFile, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    ).toHaveLength(8);
  });
});
