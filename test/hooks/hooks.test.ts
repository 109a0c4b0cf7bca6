/** Listeners beside the caller's hooks: isolated, first; the caller's contract unchanged. */
import { describe, expect, it } from 'vitest';
import type { ServerHooks } from '../../src/serve.js';
import { withListeners } from '../../src/monitoring/hooks.js';
import { memoryLogger } from '../support/memory-log.js';

describe('withListeners', () => {
  it('runs every listener, isolated and logged when it throws, then the caller', () => {
    const calls: string[] = [];
    const { logger, entries } = memoryLogger();
    const hooks = withListeners<ServerHooks>(
      logger,
      { onPolicyLoad: () => calls.push('caller') },
      { onPolicyLoad: () => calls.push('metrics') },
      {
        onPolicyLoad: () => {
          calls.push('broken');
          throw new Error('listener bug');
        },
        onCertificateLoad: () => calls.push('cert'),
      },
    );
    hooks.onPolicyLoad!({ ok: true, policies: 3 });
    hooks.onCertificateLoad!({ notAfter: new Date() });
    expect(calls).toEqual(['metrics', 'broken', 'caller', 'cert']);
    expect(entries().some((l) => l.hook === 'onPolicyLoad' && l.msg === 'a monitoring listener failed')).toBe(true);
  });

  it("lets the caller's own exception through, as before", () => {
    const { logger } = memoryLogger();
    const hooks = withListeners<ServerHooks>(logger, {
      onPolicyLoad() {
        throw new Error('caller bug');
      },
    });
    expect(() => hooks.onPolicyLoad!({ ok: true, policies: 1 })).toThrow('caller bug');
  });

  it('keeps hooks it has never heard of, also class methods', () => {
    class Recorder {
      seen: unknown[] = [];
      onSomethingNew(info: unknown): void {
        this.seen.push(info);
      }
    }
    const r = new Recorder();
    const hooks = withListeners(memoryLogger().logger, r as object) as { onSomethingNew(i: unknown): void };
    hooks.onSomethingNew(42);
    expect(r.seen).toEqual([42]);
  });
});
