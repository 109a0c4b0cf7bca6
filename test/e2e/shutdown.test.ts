/**
 * A pod stop with the real API server's connections held: `serve` gets SIGTERM right after bursts
 * of writes (so kube-apiserver's webhook client holds keep-alive connections to it, some of them
 * dialed and never used) and must exit at once, not after --shutdown-grace (src/server/drain.ts).
 * Repeated: the API server's pool leaves a different set of connections each time.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiRequest, describeE2e, installDriftguard, namespace, waitForWebhooks, type Session } from './support/harness.js';

const NS = 'prod-e2e-shutdown';
const GRACE_MS = 20_000;
const TRIES = 4;
/** Writes at once per burst: more than the pool keeps, so the API server dials connections it then leaves unused. */
const CONCURRENT = 12;

/** ESTABLISHED TCP connections whose local end is 127.0.0.1:port (Linux /proc/net/tcp). */
function establishedTo(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === '01').length;
}

describeE2e('SIGTERM with the API server holding keep-alive connections', () => {
  let s: Session;

  beforeAll(async () => {
    s = await installDriftguard({ extraArgs: ['--shutdown-grace', String(GRACE_MS)] });
    await namespace(NS);
  });
  afterAll(async () => {
    await s?.dg.stop();
  });

  it(`exits well within the grace (${GRACE_MS} ms), ${TRIES} times, with every write answered`, async () => {
    const took: number[] = [];
    for (let attempt = 0; attempt < TRIES; attempt++) {
      if (attempt > 0) {
        await s.dg.restart();
        await waitForWebhooks(s.dg);
      }
      // Server-side dry runs: every webhook is called (sideEffects NoneOnDryRun), nothing is stored.
      for (let burst = 0; burst < 3; burst++) {
        const answers = await Promise.all(
          Array.from({ length: CONCURRENT }, (_, i) =>
            apiRequest(
              'admin',
              'POST',
              `/api/v1/namespaces/${NS}/configmaps?dryRun=All`,
              { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${attempt}-${burst}-${i}` }, data: { k: 'v' } },
              'application/json',
            ),
          ),
        );
        // Each write reached driftguard and came back: answered, not failed for want of a webhook.
        for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
      }
      const held = establishedTo(s.dg.port);
      // The premise: connections to driftguard are open when the signal comes.
      expect(held).toBeGreaterThan(0);
      const child = s.dg.child();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const t0 = performance.now();
      child.kill('SIGTERM');
      const exit = await exited;
      const ms = performance.now() - t0;
      took.push(Math.round(ms));
      console.log(`shutdown try ${attempt + 1}: ${held} connection(s) established at SIGTERM, exited in ${Math.round(ms)} ms`);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(ms, `try ${attempt + 1} took ${Math.round(ms)} ms`).toBeLessThan(3_000);
    }
    expect(s.dg.stderr()).toContain('driftguard stopped; records flushed');
    expect(took).toHaveLength(TRIES);
  }, 240_000);
});
