/** One typed set of hooks, fanned out: every listener in order, each isolated; a throwing one never fails a review. */
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/admission/handler.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { fanOut } from '../../src/hooks/hooks.js';
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
    expect(entries().filter((l) => l.msg === 'a hook listener failed')).toEqual([
      expect.objectContaining({ hook: 'onPolicyLoad', err: expect.objectContaining({ message: 'listener bug' }) }),
    ]);
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
  it('neither fails validate() nor loses its records, and the listeners after it still hear every event', async () => {
    const set = await policies(path.join(REPO, 'policies'));
    const records = memorySink();
    const { logger, entries } = memoryLogger();
    const heard: string[] = [];
    // Through the fan-out, as serve wires the hooks: a broken listener first, a sound one after it.
    const hooks = fanOut(logger, [
      {
        onDecision() {
          throw new Error('decision listener bug');
        },
        onChangeRecord() {
          throw new Error('change listener bug');
        },
      },
      {
        onDecision: (info) => heard.push(`decision ${info.decision.allowed ? 'allowed' : 'denied'}`),
        onChangeRecord: (r) => heard.push(`change ${r.stage}`),
      },
    ]);
    const deps = { policies: () => set, parents: new ParentResolver(), records, clock: () => NOW, logger, hooks };
    const denied = await validate(readJson<any>('reviews', 'kubectl-edit-prod.json').request, deps);
    const admitted = await validate(readJson<any>('reviews', 'argocd-update-prod.json').request, deps);
    expect(denied.response.allowed).toBe(false);
    expect(admitted.response.allowed).toBe(true);
    const written = records.records as Array<{ type: string; stage?: string }>;
    expect(written.map((r) => r.type)).toEqual(['violation', 'change']);
    // One decision per review, one change record per record written, in order.
    expect(heard).toEqual(['decision denied', 'change final', 'decision allowed']);
    expect(
      entries()
        .filter((l) => l.msg === 'a hook listener failed')
        .map((l) => l.hook),
    ).toEqual(['onDecision', 'onChangeRecord', 'onDecision']);
  });
});
