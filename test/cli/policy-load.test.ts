import { describe, expect, it } from 'vitest';
import { fixturePath, SAMPLE_POLICIES } from '../support/fixtures.js';
import { cli } from '../support/cli.js';
import { startTestServer } from '../support/server.js';

describe('bad policy files', () => {
  it('stop the server from starting, with file:line:column and what is wrong', async () => {
    await expect(startTestServer({ policies: [fixturePath('policies', 'broken')] })).rejects.toThrow(
      /typo\.yaml:10:3: error DG_POLICY_INVALID: spec\.exeptions: unknown field `exeptions`, did you mean `exceptions`\?/,
    );
    await expect(startTestServer({ policies: [fixturePath('policies', 'broken')] })).rejects.toThrow(
      /bad-yaml\.yaml:\d+:\d+: error DG_POLICY_PARSE/,
    );
  });

  it('serve exits 2 (an input error) with the same message', async () => {
    const r = await cli([
      'serve',
      '--policies',
      fixturePath('policies', 'broken'),
      '--port',
      '0',
      '--cert-dir',
      fixturePath('nonexistent-certs'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error DG_POLICY_INVALID');
    expect(r.stderr).toContain('typo.yaml:10:3');
  });

  it('a directory with no policy files is an error, not an empty policy set', async () => {
    const r = await cli(['evaluate', fixturePath('reviews', 'kubectl-edit-prod.json'), '-p', fixturePath('reviews')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DG_POLICY_DIR');
  });
});

describe('driftguard policy lint', () => {
  it('passes the sample policies', async () => {
    const r = await cli(['policy', 'lint', SAMPLE_POLICIES], { now: new Date('2026-11-24T00:00:00Z') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 file(s), 3 valid policies, 0 error(s), 0 warning(s)');
  });

  it('warns about an expired break-glass entry without failing', async () => {
    const r = await cli(['policy', 'lint', SAMPLE_POLICIES], { now: new Date('2099-01-05T00:00:00Z') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/argocd-prod\.yaml:\d+:\d+: warning DGL001/);
    const strict = await cli(['policy', 'lint', '--strict', SAMPLE_POLICIES], { now: new Date('2099-01-05T00:00:00Z') });
    expect(strict.code).toBe(1);
  });

  it('reports every error in broken files and exits 1; json output is machine-readable', async () => {
    const r = await cli(['policy', 'lint', fixturePath('policies', 'broken'), '-o', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toBe(3);
    expect(out.diagnostics.map((d: any) => [d.code, d.line, d.column])).toEqual([
      // Where the unclosed { and [ open (line 6), not where the parser noticed (line 7).
      ['DG_POLICY_PARSE', 6, 10],
      ['DG_POLICY_PARSE', 6, 22],
      ['DG_POLICY_INVALID', 10, 3],
    ]);
    expect(out.diagnostics[0].message).toMatch(/^this \{ is never closed with \} /);
    expect(out.diagnostics[1].message).toMatch(/^this \[ is never closed with \] /);
  });
});
