/**
 * Each policy keeps its coverage answers by (operation, group, resource, kind, subresource,
 * namespace): a warm memo must give exactly the results a cold one does, whatever came before.
 */
import { describe, expect, it } from 'vitest';
import { buildReview, user } from '../../src/admission/build.js';
import { parseReview } from '../../src/admission/review.js';
import { evaluate } from '../../src/engine/evaluate.js';
import type { AdmissionRequest } from '../../src/k8s/admission.js';
import { loadPolicies } from '../../src/policy/load.js';
import { edited, object, SAMPLE_POLICIES } from '../support/fixtures.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const jane = user('oidc:jane@example.com', ['oidc:developers']);

function requests(): AdmissionRequest[] {
  const web = object('deployment-prod-web');
  const out: AdmissionRequest[] = [];
  for (const ns of ['prod-shop', 'staging', 'apps-x', 'prod-"quoted"', 'a\u0000b', ''])
    for (const operation of ['UPDATE', 'DELETE'] as const) {
      const moved = edited(web, (o) => {
        o.metadata.namespace = ns;
        o.spec.replicas = 9;
      });
      const review = buildReview({
        operation,
        userInfo: jane,
        oldObject: edited(web, (o) => (o.metadata.namespace = ns)),
        ...(operation === 'UPDATE' ? { object: moved } : {}),
      });
      const parsed = parseReview(review);
      if (!parsed.ok) throw new Error(parsed.message);
      out.push(parsed.request);
    }
  const scale = parseReview(
    buildReview({
      operation: 'UPDATE',
      userInfo: jane,
      object: edited(web, (o) => (o.spec.replicas = 5)),
      oldObject: web,
      subResource: 'scale',
    }),
  );
  if (scale.ok) out.push(scale.request);
  // The same characters split another way between the tuple's parts: a key that ran them together
  // (or joined them with a character a name may hold) would give these one answer.
  const update = out.find((r) => r.operation === 'UPDATE' && r.namespace === 'prod-shop')!;
  const splits: [group: string, resource: string, kind: string][] = [
    ['app', 'sdeployments', 'Deployment'],
    ['apps:deployments', '', 'Deployment'],
    ['apps', 'deployments', ':Deployment'],
  ];
  for (const [group, resource, kind] of splits)
    out.push({ ...update, resource: { ...update.resource, group, resource }, kind: { ...update.kind, group, kind } });
  return out;
}

describe('coverage memo', () => {
  it('a warm memo answers exactly as a cold one, request after request', async () => {
    const warm = await loadPolicies([SAMPLE_POLICIES]);
    const all = requests();
    // Warm it with every request in reverse order first.
    for (const r of [...all].reverse()) evaluate(warm, { request: r, now: NOW });
    let covered = 0;
    for (const r of all) {
      const cold = await loadPolicies([SAMPLE_POLICIES]);
      const expected = evaluate(cold, { request: r, now: NOW }).results;
      const got = evaluate(warm, { request: r, now: NOW }).results;
      expect(got).toEqual(expected);
      covered += got.filter((x) => x.status !== 'skip').length;
    }
    // Something was covered and something skipped: the comparison can tell them apart.
    expect(covered).toBeGreaterThan(0);
    expect(all.length * warm.policies.length).toBeGreaterThan(covered);
  });

  it('gives every request of a tuple the same frozen skip result, and each its own result where a policy covers it', async () => {
    const set = await loadPolicies([SAMPLE_POLICIES]);
    const [a, b] = [requests()[0]!, requests()[0]!];
    const [ra, rb] = [evaluate(set, { request: a, now: NOW }).results, evaluate(set, { request: b, now: NOW }).results];
    const skipped = ra.flatMap((r, i) => (r.status === 'skip' ? [i] : []));
    const covered = ra.flatMap((r, i) => (r.status !== 'skip' ? [i] : []));
    expect(skipped.length).toBeGreaterThan(0);
    expect(covered.length).toBeGreaterThan(0);
    for (const i of skipped) {
      expect(rb[i]).toBe(ra[i]);
      expect(Object.isFrozen(ra[i])).toBe(true);
    }
    for (const i of covered) expect(rb[i]).not.toBe(ra[i]);
  });
});
