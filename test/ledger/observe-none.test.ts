/**
 * `observe: none` over real HTTPS: with `serve --observe none` the entry observer answers allowed
 * and records nothing; a policy with `observe: none` leaves its writes' entry unrecorded while the
 * validating call still writes the final, and a policy with the default still has its entry.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { edited, object } from '../support/fixtures.js';
import { jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';

const stored = object('deployment-prod-web');
const edit = () =>
  buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    fieldManager: 'kubectl-edit',
    oldObject: stored,
    object: edited(stored, (o) => (o.spec.replicas = 7)),
  });

/** The sample argocd-prod policy with `observe` set, alone in a directory. */
function policiesWith(observe: 'full' | 'none'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-observe-'));
  const text = readFileSync(path.resolve(import.meta.dirname, '../../policies/argocd-prod.yaml'), 'utf8');
  writeFileSync(path.join(dir, 'argocd-prod.yaml'), text.replace(/^spec:\n/m, `spec:\n  observe: ${observe}\n`));
  return dir;
}

describe('observe: none', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const stages = (s: TestServer) =>
    s
      .records()
      .filter((r) => r.type === 'change')
      .map((r) => r.stage)
      .sort();

  it('serve --observe none: the entry observer answers allowed, with no patch, and records nothing', async () => {
    server = await startTestServer({ config: { observe: 'none' } });
    const review = edit();
    const res = await server.review(review, '/observe/entry');
    expect(res.status).toBe(200);
    expect(res.json.response).toEqual({ uid: review.request.uid, allowed: true });
    await server.review(edit(), '/validate');
    expect(stages(server)).not.toContain('entry');
  });

  it('a policy with observe: none: no entry record; the same policy with the default: an entry record', async () => {
    for (const [observe, expected] of [
      ['none', false],
      ['full', true],
    ] as const) {
      server = await startTestServer({ policies: [policiesWith(observe)] });
      const res = await server.review(edit(), '/observe/entry');
      expect(res.json.response.allowed).toBe(true);
      expect(stages(server).includes('entry'), observe).toBe(expected);
      await server.close();
      server = undefined;
    }
  });
});
