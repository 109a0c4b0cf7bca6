/**
 * Helm v4, built from the Go module proxy by scripts/helm-build.sh (cached like the control plane),
 * run against the suite's API server with the admin's kubeconfig.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../../support/fixtures.js';
import { childEnv } from '../cluster/controlplane.js';
import { cluster } from './cluster.js';

const run = promisify(execFile);

export const CHART = path.join(REPO, 'charts/driftguard');

let binary: string | undefined;

/** Build helm if needed (minutes, once per cache) and return its path. */
export async function helmBinary(): Promise<string> {
  if (binary !== undefined) return binary;
  const { stdout } = await run('bash', [path.join(REPO, 'scripts/helm-build.sh')], { env: childEnv(), timeout: 40 * 60_000 });
  binary = stdout.trim().split('\n').pop()!;
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run helm; resolves with its exit code and output, never rejects on a non-zero exit. */
export async function helm(args: string[]): Promise<HelmResult> {
  const bin = await helmBinary();
  const dir = path.join(cluster().dir, 'helm');
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        env: childEnv({
          KUBECONFIG: cluster().kubeconfigs.admin,
          HELM_CACHE_HOME: path.join(dir, 'cache'),
          HELM_CONFIG_HOME: path.join(dir, 'config'),
          HELM_DATA_HOME: path.join(dir, 'data'),
        }),
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

export async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export type Obj = Record<string, any>;

/** `helm template` of the chart, parsed. */
export async function template(args: string[] = []): Promise<Obj[]> {
  const yaml = await helmOk(['template', 'driftguard', CHART, '--namespace', 'driftguard', ...args]);
  // YAML 1.1, as the API server reads it (a Secret volume's defaultMode: 0440 is octal).
  return parseAllDocuments(yaml, { version: '1.1' })
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
