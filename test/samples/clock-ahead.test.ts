/**
 * Nothing shipped may depend on today's date: the README's own `policy lint policies/ --strict`
 * and every sample suite must pass next year too. libfaketime (Debian `faketime`, installed by
 * scripts/ensure-system-deps.sh) moves the real clock of a real `node dist/cli.js` five years ahead.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/fixtures.js';

const FAKETIME = process.env.DRIFTGUARD_FAKETIME ?? 'faketime';
const CLI = path.join(REPO, 'dist/cli.js');

function ahead(years: number, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(FAKETIME, ['-f', `+${years}y`, process.execPath, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined)
    throw new Error(`cannot run ${FAKETIME} (Debian package faketime; scripts/ensure-system-deps.sh installs it): ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the samples with the clock five years ahead', () => {
  it('the clock really is five years ahead in the child', () => {
    const year = new Date().getUTCFullYear();
    const seen = Number(ahead(5, ['-e', 'process.stdout.write(String(new Date().getUTCFullYear()))']).stdout);
    // Around New Year the child may already be one year further.
    expect([year + 5, year + 6]).toContain(seen);
  });

  it('policy lint policies/ --strict passes, as the README runs it', () => {
    const r = ahead(5, [CLI, 'policy', 'lint', 'policies/', '--strict']);
    expect(r.stdout + r.stderr).toContain('0 error(s), 0 warning(s)');
    expect(r.code).toBe(0);
  });

  it('policy lint policies/library --strict passes too (the sample library users copy from)', () => {
    const r = ahead(5, [CLI, 'policy', 'lint', 'policies/library', '--strict']);
    expect(r.stdout + r.stderr).toContain('7 valid policies, 0 error(s), 0 warning(s)');
    expect(r.code).toBe(0);
  });

  it('every sample suite passes (policies/ and its library)', () => {
    const r = ahead(5, [CLI, 'policy', 'test', 'policies/', '-o', 'json']);
    const report = JSON.parse(r.stdout) as { summary: { passed: number; failed: number; errors: number } };
    expect(report.summary.passed).toBeGreaterThan(50);
    expect(report.summary).toMatchObject({ failed: 0, errors: 0 });
    expect(r.code).toBe(0);
  });

  it('the README example hotfix by on-call still breaks the glass', () => {
    // The fixture's person, now in the on-call group: the sample entry lets them through.
    const review = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/reviews/kubectl-edit-prod.json'), 'utf8'));
    review.request.userInfo = { username: 'oidc:bob@example.com', groups: ['oncall', 'system:authenticated'] };
    const r = spawnSync(FAKETIME, ['-f', '+5y', process.execPath, CLI, 'evaluate', '-', '--policies', 'policies'], {
      cwd: REPO,
      input: JSON.stringify(review),
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/argocd-prod\s+breakglass/);
    expect(r.status).toBe(0);
  });
});
