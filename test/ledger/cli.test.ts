/** The explain and history command lines: object names, times, sources and errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { humanDuration, parseDuration, parseTimeFlag } from '../../src/cli/time.js';
import { parseByteSize } from '../../src/cli/serve.js';
import { parseTarget } from '../../src/ledger/target.js';
import { cli as runCli } from '../support/cli.js';

describe('KIND/NAME like kubectl', () => {
  it('accepts short names, kinds, plurals and group-qualified names', () => {
    for (const spec of ['deploy/web', 'deployment/web', 'deployments/web', 'Deployment/web', 'deployments.apps/web']) {
      expect(parseTarget(spec, 'prod-shop'), spec).toEqual({ resource: 'deployments', group: 'apps', namespace: 'prod-shop', name: 'web' });
    }
    expect(parseTarget('cm/web-config', undefined)).toEqual({
      resource: 'configmaps',
      group: '',
      namespace: 'default',
      name: 'web-config',
    });
    expect(parseTarget('sts/db', 'x')).toMatchObject({ resource: 'statefulsets', group: 'apps' });
    expect(parseTarget('rollouts.argoproj.io/web', 'x')).toEqual({
      resource: 'rollouts',
      group: 'argoproj.io',
      namespace: 'x',
      name: 'web',
    });
    expect(parseTarget('Rollout/web', 'x')).toEqual({ resource: 'rollouts', namespace: 'x', name: 'web' });
    expect(parseTarget('ns/prod-shop', undefined)).toEqual({ resource: 'namespaces', group: '', name: 'prod-shop' });
  });

  it('rejects what is not KIND/NAME', () => {
    for (const spec of ['web', 'deploy/', '/web', 'deploy/web/x']) expect(() => parseTarget(spec, undefined), spec).toThrow(/KIND\/NAME/);
    expect(() => parseTarget('ns/prod', 'x')).toThrow(/cluster-scoped/);
  });
});

describe('times and sizes on the command line', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  it('--since takes a Go-style duration back from now or an RFC 3339 time', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('90')).toBeUndefined();
    expect(parseTimeFlag('90m', '--since', now).toISOString()).toBe('2026-11-24T10:30:00.000Z');
    expect(parseTimeFlag('2026-11-24T09:15:00+01:00', '--since', now).toISOString()).toBe('2026-11-24T08:15:00.000Z');
    expect(() => parseTimeFlag('yesterday', '--since', now)).toThrow(/--since must be a duration/);
  });

  it('prints durations the way kubectl does', () => {
    expect([45_000, 330_000, 1_200_000, 11_400_000, 36 * 3_600_000, 5 * 86_400_000].map(humanDuration)).toEqual([
      '45s',
      '5m30s',
      '20m',
      '3h10m',
      '36h',
      '5d',
    ]);
  });

  it('--records-max-bytes takes Kubernetes-style sizes', () => {
    expect(parseByteSize('100Mi', '--records-max-bytes')).toBe(104_857_600);
    expect(parseByteSize('50M', '--records-max-bytes')).toBe(50_000_000);
    expect(parseByteSize('0', '--records-max-bytes')).toBe(0);
    expect(() => parseByteSize('10MB', '--records-max-bytes')).toThrow(/size/);
  });
});

describe('explain and history exit codes and messages', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-cli-'));
  const empty = path.join(dir, 'empty.jsonl');
  writeFileSync(empty, 'not json at all\n{"level":30,"msg":"driftguard serving"}\n');

  it('exits 1 with a message when the object has no records, and warns about malformed lines', async () => {
    const res = await runCli(['explain', 'deploy/web', '-n', 'prod-shop', empty]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`warning: skipped 1 malformed line(s) (${empty}:1)`);
    expect(res.stderr).toContain('No recorded writes to deployments.apps/web in namespace prod-shop (0 record(s) read from 1 source(s)).');
    const history = await runCli(['history', 'deploy/web', '-n', 'prod-shop', empty]);
    expect(history.code).toBe(1);
  });

  it('exits 2 on usage errors: a missing file, a bad --output, a bad object name', async () => {
    expect((await runCli(['explain', 'deploy/web', path.join(dir, 'missing.jsonl')])).code).toBe(2);
    const badOutput = await runCli(['history', 'deploy/web', empty, '-o', 'yaml']);
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toContain('error DG_USAGE: --output must be text or json, got yaml');
    expect((await runCli(['explain', 'web', empty])).code).toBe(2);
  });

  it('reads standard input when no source is named and input is piped', async () => {
    const res = await runCli(['history', 'deploy/web', '-n', 'prod-shop'], { stdin: 'garbage\n' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('warning: skipped 1 malformed line(s) (stdin:1)');
  });
});
