/**
 * The kubectl plugin: the real kubectl finds `kubectl-driftguard` on PATH (the bin npm links to
 * dist/cli.js on install) and runs it with the rest of the command line.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { programName } from '../../src/cli/main.js';
import { REPO, SAMPLE_POLICIES } from '../support/fixtures.js';

const exec = promisify(execFile);
let bin: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  bin = mkdtempSync(path.join(tmpdir(), 'driftguard-plugin-'));
  const cli = path.join(REPO, 'dist', 'cli.js');
  chmodSync(cli, 0o755); // npm marks bin targets executable on install
  symlinkSync(cli, path.join(bin, 'kubectl-driftguard'));
  // Only the plugin dir, node (for the #! line) and the system dirs: no other plugins, no real kubeconfig.
  env = {
    PATH: [bin, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: bin,
    KUBECONFIG: path.join(bin, 'no-kubeconfig'),
  };
});

const kubectl = (args: string[], cwd = bin) => exec('kubectl', args, { env, cwd, timeout: 20_000 });

describe('kubectl driftguard', () => {
  it('is listed by kubectl plugin list as an executable plugin', async () => {
    const { stdout, stderr } = await kubectl(['plugin', 'list']);
    expect(stdout).toContain(path.join(bin, 'kubectl-driftguard'));
    expect(stderr).not.toMatch(/warning/i);
  });

  it('--help shows the commands under the name the user typed', async () => {
    const { stdout } = await kubectl(['driftguard', '--help']);
    expect(stdout).toContain('Usage: kubectl driftguard');
    for (const command of ['serve', 'evaluate', 'policy', 'certs', 'manifests'])
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('passes the rest of the command line through, flags included', async () => {
    const version = await kubectl(['driftguard', '--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const out = await kubectl(['driftguard', 'manifests', '--policies', SAMPLE_POLICIES, '--namespace', 'guard']);
    expect(out.stdout).toContain('kind: ValidatingWebhookConfiguration');
    expect(out.stdout).toContain('namespace: guard');
    await kubectl(['driftguard', 'certs', '--out', 'pki'], bin);
    expect(existsSync(path.join(bin, 'pki', 'tls.crt'))).toBe(true);
  });

  it('reports a usage error with exit code 2, through kubectl', async () => {
    const err = await kubectl(['driftguard', 'certs']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(2);
    expect(err?.stderr).toContain('error DG_USAGE: certs needs --out DIR');
  });

  it('names itself by how it was invoked', () => {
    expect(programName('/usr/local/bin/kubectl-driftguard')).toBe('kubectl driftguard');
    expect(programName('/usr/local/lib/node_modules/driftguard/dist/cli.js')).toBe('driftguard');
    expect(programName('/usr/local/bin/driftguard')).toBe('driftguard');
    expect(programName(undefined)).toBe('driftguard');
  });
});
