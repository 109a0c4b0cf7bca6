/**
 * Reviews of one event-loop turn judged together (src/server/turn-batch.ts), and the adapter that
 * batches them: every concurrent review still gets its own answer, a large body is not held back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TurnBatch } from '../../src/server/turn-batch.js';
import { BATCH_MAX_BODY_BYTES } from '../../src/server/app.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { readJson } from '../support/fixtures.js';

describe('TurnBatch', () => {
  it('runs the jobs added in one turn together, in order, after the turn, not while it runs', async () => {
    const ran: string[] = [];
    const batch = new TurnBatch(32, () => {});
    batch.add(() => ran.push('a'));
    batch.add(() => ran.push('b'));
    ran.push('turn');
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['turn', 'a', 'b']);
    batch.add(() => ran.push('c'));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['turn', 'a', 'b', 'c']);
  });

  it('runs a full batch at once, and the next one after its turn', async () => {
    const ran: number[] = [];
    const batch = new TurnBatch(3, () => {});
    for (const n of [1, 2, 3, 4]) batch.add(() => ran.push(n));
    expect(ran).toEqual([1, 2, 3]);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([1, 2, 3, 4]);
  });

  it('reports a job that throws and runs the rest', async () => {
    const ran: string[] = [];
    const errors: unknown[] = [];
    const batch = new TurnBatch(32, (err) => errors.push(err));
    batch.add(() => ran.push('first'));
    batch.add(() => {
      throw new Error('boom');
    });
    batch.add(() => ran.push('last'));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['first', 'last']);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
  });
});

describe('batched reviews over HTTPS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers 40 reviews sent at once (more than one batch), each with its own uid and verdict', async () => {
    const gitops = readJson<any>('reviews', 'argocd-update-prod.json');
    const person = readJson<any>('reviews', 'kubectl-edit-prod.json');
    const sent = Array.from({ length: 40 }, (_, i) => {
      const review = structuredClone(i % 2 === 0 ? gitops : person);
      review.request.uid = `batch-${i}`;
      return review;
    });
    const answers = await Promise.all(sent.map((r) => server.review(r)));
    expect(answers.map((a) => a.status)).toEqual(sent.map(() => 200));
    expect(answers.map((a) => a.json.response.uid)).toEqual(sent.map((r) => r.request.uid));
    // The Argo CD update is allowed, the person's edit of the same Deployment denied.
    expect(answers.map((a) => a.json.response.allowed)).toEqual(sent.map((_, i) => i % 2 === 0));
  });

  it('judges a body too large to batch at once, beside small ones', async () => {
    const small = readJson<any>('reviews', 'argocd-update-prod.json');
    const large = structuredClone(small);
    large.request.uid = 'large-1';
    large.request.object.metadata.annotations = { ...large.request.object.metadata.annotations, filler: 'x'.repeat(BATCH_MAX_BODY_BYTES) };
    large.request.oldObject.metadata.annotations = large.request.object.metadata.annotations;
    const reviews = [large, ...Array.from({ length: 5 }, (_, i) => ({ ...small, request: { ...small.request, uid: `small-${i}` } }))];
    const answers = await Promise.all(reviews.map((r) => server.review(r)));
    expect(answers.map((a) => a.json.response.uid)).toEqual(reviews.map((r) => r.request.uid));
    expect(answers.map((a) => a.json.response.allowed)).toEqual(reviews.map(() => true));
  });
});
