/**
 * driftguard installed as users install it, in front of the suite's real API server:
 * - certificates from `driftguard certs` (with 127.0.0.1 as a name, since the API server calls a URL);
 * - the base rendered with the real kubectl (`kubectl kustomize manifests`), applied for real;
 * - the production build (`node dist/cli.js serve`) on loopback, with the service account token
 *   and RBAC the manifests grant;
 * - the three webhook configurations as `driftguard manifests --url https://127.0.0.1:PORT` prints
 *   them: `clientConfig.url` with each webhook's path in place of the Service (no kubelet runs the
 *   pod here); install.test.ts checks they are the rendered base's but for clientConfig.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { copyManifests } from '../../support/kustomize.js';
import { REPO } from '../../support/fixtures.js';
import { childEnv, freePort } from '../cluster/controlplane.js';
import { applyObjects, cluster, kubectlOk, serviceAccount } from './cluster.js';

export type Obj = Record<string, any>;

export const WEBHOOK_KINDS = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The one e2e CLI runner: `node dist/cli.js ARGS` (cwd the repository unless given), resolving with the exit code and output whatever the code. */
export function cli(args: string[], cwd = REPO): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'dist/cli.js'), ...args],
      { cwd, env: childEnv(), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

/** cli() for a command that must succeed: its stdout, or an error (carrying code, stdout and stderr) when it exits non-zero. */
export async function driftguardCli(args: string[], cwd = REPO): Promise<string> {
  const r = await cli(args, cwd);
  if (r.code !== 0) throw Object.assign(new Error(`driftguard ${args.join(' ')} exited ${r.code}: ${r.stderr}`), r);
  return r.stdout;
}

/** `driftguard certs` into a copy of manifests/, then `kubectl kustomize` with the suite's kubectl. */
export async function renderInstall(): Promise<{ objects: Obj[]; certDir: string }> {
  const { manifests } = copyManifests();
  const certDir = path.join(manifests, 'certs');
  await driftguardCli(['certs', '--out', certDir, '--san', '127.0.0.1']);
  const yaml = await kubectlOk('admin', ['kustomize', manifests]);
  const objects = parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
  return { objects, certDir };
}

/**
 * The rendered base's webhook configurations with clientConfig rewritten by hand to
 * `url: https://127.0.0.1:PORT/<path>`: only the expectation install.test.ts holds
 * `driftguard manifests --url` to. The setup itself uses `manifests --url` (shippedWebhooksAt).
 */
export function webhooksAt(objects: Obj[], port: number): Obj[] {
  return objects
    .filter((o) => WEBHOOK_KINDS.includes(o.kind))
    .map((o) => {
      const copy = structuredClone(o);
      for (const w of copy.webhooks) {
        const { service, caBundle } = w.clientConfig;
        w.clientConfig = { url: `https://127.0.0.1:${port}${service.path}`, caBundle };
      }
      return copy;
    });
}

/**
 * The lines of a records file the server is still appending to: only those a newline ends, since
 * a read can land in the middle of a write(2) and see half a line (src/records/read.ts skips
 * such a last line the same way).
 */
function completeLines(text: string): string[] {
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.trim() !== '');
}

export interface Driftguard {
  port: number;
  url: string;
  caFile: string;
  recordsFile: string;
  /** Every whole JSON line of the records file so far. */
  records(): Obj[];
  stderr(): string;
  /** driftguard's /metrics as text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
  /** Start the same server again on the same port (after stop()). */
  restart(): Promise<void>;
  child(): ChildProcess;
}

export interface DriftguardOptions {
  policies: string;
  certDir: string;
  port?: number;
  extraArgs?: string[];
  /** Reach the cluster as driftguard's service account (parent lookups, Events, webhook candidates). */
  withCluster?: boolean;
}

/** Start `node dist/cli.js serve` with the installed certificates, as the Deployment's args do. */
export async function startDriftguard(opts: DriftguardOptions): Promise<Driftguard> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-serve-'));
  const recordsFile = path.join(dir, 'records.jsonl');
  const caFile = path.join(opts.certDir, 'ca.crt');
  const kube = opts.withCluster === false ? [] : ['--kubeconfig', (await serviceAccount('driftguard', 'driftguard')).kubeconfig];
  const args = [
    path.join(REPO, 'dist/cli.js'),
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--tls-cert',
    path.join(opts.certDir, 'tls.crt'),
    '--tls-key',
    path.join(opts.certDir, 'tls.key'),
    '--policies',
    opts.policies,
    '--records',
    recordsFile,
    '--log-level',
    'info',
    ...kube,
    ...(opts.extraArgs ?? []),
  ];
  let child!: ChildProcess;
  let err = '';
  const launch = async (): Promise<void> => {
    child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => (err += c.toString()));
    await waitReady(`https://127.0.0.1:${port}`, caFile, child, () => err);
  };
  await launch();
  const url = `https://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  return {
    port,
    url,
    caFile,
    recordsFile,
    records: () => (existsSync(recordsFile) ? completeLines(readFileSync(recordsFile, 'utf8')).map((l) => JSON.parse(l) as Obj) : []),
    stderr: () => err,
    metrics: () => httpsGet(`${url}/metrics`, caFile),
    stop,
    restart: launch,
    child: () => child,
  };
}

export async function httpsGet(url: string, caFile: string): Promise<string> {
  const ca = readFileSync(caFile, 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(url: string, caFile: string, child: ChildProcess, out: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  // Re-checked soon at first (a start takes a few hundred ms), then every 100 ms.
  for (let pause = 20; ; pause = Math.min(100, pause * 2)) {
    if (child.exitCode !== null) throw new Error(`driftguard exited ${child.exitCode}: ${out()}`);
    if (
      await httpsGet(`${url}/readyz`, caFile).then(
        () => true,
        () => false,
      )
    )
      return;
    if (Date.now() > deadline) throw new Error(`driftguard not ready: ${out()}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** How many calls driftguard answered on a route, from its request duration histogram. */
export function callsOn(metrics: string, route: string): number {
  let n = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('driftguard_request_duration_seconds_count{')) continue;
    if (!line.includes(`route="${route}"`)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

/**
 * Everything of the rendered install but the webhook configurations (applied for real), then the
 * webhook configurations pointed at `port`. The Deployment is accepted and never runs (no kubelet).
 */
export async function install(rendered: { objects: Obj[]; certDir: string }, port: number): Promise<void> {
  await applyObjects(
    'admin',
    rendered.objects.filter((o) => !WEBHOOK_KINDS.includes(o.kind)),
  );
  await applyObjects('admin', await shippedWebhooksAt(rendered.certDir, port));
}

/** The base's registration (the sample policies, as manifests/base/webhooks.yaml) for a driftguard on 127.0.0.1:port. */
export function shippedWebhooksAt(certDir: string, port: number): Promise<Obj[]> {
  return webhooksForPolicies(path.join(REPO, 'policies'), certDir, port);
}

/**
 * The three webhook configurations `driftguard manifests --policies DIR --ca CA` prints for a
 * policy set (kinds outside the built-in table looked up with the admin's kubeconfig), pointed at a
 * driftguard on 127.0.0.1:port: the registration for policies other than the samples the base ships.
 */
export async function webhooksForPolicies(policies: string, certDir: string, port: number): Promise<Obj[]> {
  const yaml = await driftguardCli([
    'manifests',
    '--policies',
    policies,
    '--ca',
    path.join(certDir, 'ca.crt'),
    '--kubeconfig',
    cluster().kubeconfigs.admin,
    '--url',
    `https://127.0.0.1:${port}`,
  ]);
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
