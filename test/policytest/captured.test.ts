/**
 * Reviews captured from a real kube-apiserver by the end-to-end suite (test/fixtures/reviews/captured):
 * replayed by `policy test`, each gets the answer it got on the server; and the review builder the
 * short forms use makes requests of the same shape (options, Scale objects).
 */
import { describe, expect, it } from 'vitest';
import { buildReview, REQUEST_STYLES, scaleOf, userFromName } from '../../src/admission/build.js';
import { cli } from '../support/cli.js';
import { readJson, REPO } from '../support/fixtures.js';

const captured = (name: string) => readJson<any>('reviews', 'captured', `${name}.json`);

describe('reviews captured from a real API server', () => {
  it('replay to the answers the server got', async () => {
    const r = await cli(['policy', 'test', 'test/fixtures/policytest/captured', '-o', 'json'], { cwd: REPO });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cases = JSON.parse(r.stdout).suites[0].cases as Array<{ source: string; status: string; actual: { result: string } }>;
    expect(cases).toHaveLength(8);
    for (const c of cases) {
      expect(c.status, c.source).toBe('passed');
      // The replay's answer is the one driftguard gave the real server when it captured the review.
      const file = c.source.replace('../../reviews/captured/', '').replace(/\.json$/, '');
      const { response } = captured(file);
      expect(c.actual.result, file).toBe(response.allowed ? 'allowed' : 'denied');
    }
  });

  it('the builder sends the options kubectl sent', () => {
    for (const [style, file] of [
      ['kubectl-set', 'kubectl-set-image-denied'],
      ['kubectl-scale', 'kubectl-scale-denied'],
      ['kubectl-delete', 'kubectl-delete-denied'],
    ] as const) {
      const real = captured(file).request;
      const s: Record<string, unknown> = REQUEST_STYLES[style];
      const built = buildReview({
        operation: real.operation,
        userInfo: userFromName(real.userInfo.username, real.userInfo.groups),
        object: real.object,
        oldObject: real.oldObject,
        ...(typeof s.subResource === 'string' ? { subResource: s.subResource } : {}),
        ...(typeof s.fieldManager === 'string' ? { fieldManager: s.fieldManager } : {}),
        ...(s.propagationPolicy === 'Background' ? { propagationPolicy: 'Background' as const } : {}),
      }).request;
      expect(built.options, style).toEqual(real.options);
    }
  });

  it("the builder's Scale has the real Scale's shape: identity metadata only, the selector as a string", () => {
    const real = captured('hpa-scale-allowed').request.oldObject;
    const parent = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...real.metadata, labels: { app: 'web' }, annotations: { a: 'b' }, generation: 3 },
      spec: { replicas: real.spec.replicas, selector: { matchLabels: { app: 'web' } } },
      status: { replicas: real.status.replicas },
    };
    expect(scaleOf(parent)).toEqual(real);
  });
});
