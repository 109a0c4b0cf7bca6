/**
 * The engine never throws: a policy whose evaluation fails is an `error` result (denied under
 * enforce, "denied to be safe"), whether it fails in the coverage checks the memo keeps or after
 * them, and the other policies are judged as ever.
 */
import { describe, expect, it } from 'vitest';
import { buildReview, user } from '../../src/admission/build.js';
import { parseReview } from '../../src/admission/review.js';
import { decide } from '../../src/engine/decision.js';
import { evaluate } from '../../src/engine/evaluate.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicies } from '../../src/policy/load.js';
import { edited, object, SAMPLE_POLICIES } from '../support/fixtures.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const web = object('deployment-prod-web');

function personEdit() {
  const parsed = parseReview(
    buildReview({
      operation: 'UPDATE',
      userInfo: user('oidc:jane@example.com', ['oidc:developers']),
      object: edited(web, (o) => (o.spec.replicas = 7)),
      oldObject: web,
    }),
  );
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.request;
}

const boom = (): never => {
  throw new Error('boom');
};

describe('a policy whose evaluation throws', () => {
  it('is an error result, denied to be safe, in the coverage checks and after them, every time', async () => {
    const set = await loadPolicies([SAMPLE_POLICIES]);
    const judged = evaluate(set, { request: personEdit(), now: NOW }).results;
    const covering = set.policies.find((p) => judged.find((r) => r.policy === p.name)!.status !== 'skip')!;
    const inCoverage: CompiledPolicy = { ...covering, resources: covering.resources.map((r) => ({ ...r, group: boom })) };
    const afterCoverage: CompiledPolicy = { ...covering, allow: [{ ...covering.allow[0]!, matches: boom }] as CompiledPolicy['allow'] };
    for (const broken of [inCoverage, afterCoverage]) {
      const brokenSet = { ...set, policies: set.policies.map((p) => (p === covering ? broken : p)) };
      for (let i = 0; i < 2; i++) {
        // The second time through, the coverage memo answers.
        const ev = evaluate(brokenSet, { request: personEdit(), now: NOW });
        const r = ev.results.find((x) => x.policy === covering.name)!;
        expect(r).toMatchObject({ status: 'error', reason: 'evaluation failed: boom' });
        expect(ev.results.filter((x) => x.policy !== covering.name)).toEqual(judged.filter((x) => x.policy !== covering.name));
        expect(decide(ev)).toMatchObject({ allowed: false });
        expect(decide(ev).message).toContain(`policy ${covering.name} could not be evaluated (evaluation failed: boom); denied to be safe`);
      }
    }
  });
});
