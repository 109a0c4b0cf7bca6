import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath, SAMPLE_POLICIES } from '../support/fixtures.js';
import { cli } from '../support/cli.js';

describe('driftguard evaluate', () => {
  it('prints the denial and why each policy applied or not; exit 1 when denied', async () => {
    const r = await cli(['evaluate', fixturePath('reviews', 'kubectl-edit-prod.json'), '--policies', SAMPLE_POLICIES]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('"allowed": false');
    expect(r.stdout).toMatch(/argocd-prod\s+fail\s+1 change\(s\) by an actor the policy does not allow/);
    expect(r.stdout).toMatch(/flux-apps\s+skip\s+namespace prod-shop not in apps-\*/);
    expect(r.stdout).toContain('replace /spec/template/spec/containers[name=web]/image');
  });

  it('exit 0 when allowed; json output carries review, results and the records it would write', async () => {
    const r = await cli(['evaluate', fixturePath('reviews', 'argocd-update-prod.json'), '-p', SAMPLE_POLICIES, '-o', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.review.response).toMatchObject({ uid: '3d6a4adc-4ac3-43f4-8a5a-2238f5eec649', allowed: true });
    expect(out.policies.find((p: any) => p.policy === 'argocd-prod')).toMatchObject({
      status: 'pass',
      reason: 'actor allowed by preset argocd',
    });
    // No violation; the change ledger's final record of the admitted write.
    expect(out.records.filter((x: any) => x.type === 'violation')).toEqual([]);
    expect(out.records.map((x: any) => `${x.type} ${x.stage} ${x.actorClass}`)).toEqual(['change final gitops']);
  });

  it('reads the review from stdin and answers v1beta1 for v1beta1', async () => {
    const text = readFileSync(fixturePath('reviews', 'kubectl-scale-prod-v1beta1.json'), 'utf8');
    const r = await cli(['evaluate', '-', '-p', SAMPLE_POLICIES, '-o', 'json'], { stdin: text });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).review.apiVersion).toBe('admission.k8s.io/v1beta1');
  });

  it('--now moves the clock: break-glass for on-call works before expiry only', async () => {
    const review = JSON.parse(readFileSync(fixturePath('reviews', 'kubectl-edit-prod.json'), 'utf8'));
    review.request.userInfo = { username: 'oidc:bob@example.com', groups: ['oncall', 'system:authenticated'] };
    const text = JSON.stringify(review);
    const before = await cli(['evaluate', '-', '-p', SAMPLE_POLICIES, '--now', '2026-11-30T00:00:00Z'], { stdin: text });
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/argocd-prod\s+breakglass/);
    const after = await cli(['evaluate', '-', '-p', SAMPLE_POLICIES, '--now', '2099-01-02T00:00:00Z'], { stdin: text });
    expect(after.code).toBe(1);
  });

  it('exit 2 with a coded error for a missing file, bad JSON, or a bad --now', async () => {
    const missing = await cli(['evaluate', '/nonexistent/review.json', '-p', SAMPLE_POLICIES]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('DG_INPUT');
    const bad = await cli(['evaluate', '-', '-p', SAMPLE_POLICIES], { stdin: '{nope' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not JSON');
    const now = await cli(['evaluate', fixturePath('reviews', 'kubectl-edit-prod.json'), '-p', SAMPLE_POLICIES, '--now', 'yesterday']);
    expect(now.code).toBe(2);
    expect(now.stderr).toContain('DG_USAGE');
  });

  it('an unknown command is a usage error', async () => {
    const r = await cli(['evalute']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });
});
