/** One typed set of hooks, fanned out: every listener in order, each isolated; a throwing one never fails a review. */
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/admission/handler.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { fanOut, type Hooks } from '../../src/hooks/hooks.js';
import { memorySink } from '../../src/records/sink.js';
import { readJson } from '../support/fixtures.js';
import { NOW, policies } from '../support/judge.js';
import { memoryLogger } from '../support/memory-log.js';
import { REPO } from '../support/fixtures.js';
import path from 'node:path';

describe('fanOut', () => {
  it('runs every listener in order, a throwing one isolated and logged, the rest still called', () => {
    const calls: string[] = [];
    const { logger, entries } = memoryLogger();
    const hooks = fanOut(logger, [
      { onPolicyLoad: () => calls.push('metrics') },
      {
        onPolicyLoad: () => {
          calls.push('broken');
          throw new Error('listener bug');
        },
        onCertificateLoad: () => calls.push('cert'),
      },
      { onPolicyLoad: () => calls.push('caller') },
    ]);
    hooks.onPolicyLoad({ ok: true, policies: 3 });
    hooks.onCertificateLoad({ notAfter: new Date() });
    expect(calls).toEqual(['metrics', 'broken', 'caller', 'cert']);
    expect(entries().some((l) => l.hook === 'onPolicyLoad' && l.msg === 'a hook listener failed')).toBe(true);
  });

  it("keeps a caller's throwing hook from failing the call, and logs it", () => {
    const { logger, entries } = memoryLogger();
    const hooks = fanOut(logger, [
      {
        onPolicyLoad() {
          throw new Error('caller bug');
        },
      },
    ]);
    expect(() => hooks.onPolicyLoad({ ok: true, policies: 1 })).not.toThrow();
    expect(entries().filter((l) => l.msg === 'a hook listener failed')).toHaveLength(1);
  });
});

describe('a hook that throws during a review', () => {
  it('neither fails validate() nor loses its records', async () => {
    const set = await policies(path.join(REPO, 'policies'));
    const records = memorySink();
    const { logger, entries } = memoryLogger();
    const throwing: Hooks = {
      onDecision() {
        throw new Error('decision listener bug');
      },
      onChangeRecord() {
        throw new Error('change listener bug');
      },
    };
    const deps = { policies: () => set, parents: new ParentResolver(), records, clock: () => NOW, logger, hooks: throwing };
    const denied = await validate(readJson<any>('reviews', 'kubectl-edit-prod.json').request, deps);
    const admitted = await validate(readJson<any>('reviews', 'argocd-update-prod.json').request, deps);
    expect(denied.response.allowed).toBe(false);
    expect(admitted.response.allowed).toBe(true);
    const types = (records.records as Array<{ type: string }>).map((r) => r.type);
    expect(types).toContain('violation');
    expect(types).toContain('change');
    expect(entries().filter((l) => l.msg === 'a hook listener failed').length).toBeGreaterThanOrEqual(2);
  });
});
