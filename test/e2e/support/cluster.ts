/**
 * What an e2e test file uses of the control plane started by test/e2e/cluster/global-setup.ts:
 * kubectl as a given identity (a static user, or a service account with a real token), the
 * objects it reads back, and direct HTTPS calls to the API server as such an identity, for writes
 * that must really run at the same time (kubectl starts too slowly to overlap them). Files reach
 * it through ./harness.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, inject } from 'vitest';
import { childEnv, kubeconfig, type ControlPlaneInfo, type UserName } from '../cluster/controlplane.js';

const e2e = inject('e2e');

/** `describe` when the control plane runs, `describe.skip` (with the reason in the name) when not. */
export function describeE2e(name: string, fn: () => void): void {
  if (e2e.available) describe(name, fn);
  else describe.skip(`${name} (skipped: ${e2e.reason})`, fn);
}

export function cluster(): ControlPlaneInfo {
  if (!e2e.available) throw new Error(`no control plane: ${e2e.reason}`);
  return e2e.cluster;
}

/** A service account's kubeconfig (a real token) and the username the API server sees. */
export interface ServiceAccount {
  kubeconfig: string;
  username: string;
}

/** A kubeconfig file: one of the static users, or a service account's (see serviceAccount()). */
export type Identity = UserName | ServiceAccount;

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

function kubeconfigOf(as: Identity): string {
  return typeof as === 'string' ? cluster().kubeconfigs[as] : as.kubeconfig;
}

/** Run the suite's kubectl; resolves with its exit code and output, never rejects on a non-zero exit. */
export function kubectl(as: Identity, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      path.join(cluster().binDir, 'kubectl'),
      args,
      { env: childEnv({ KUBECONFIG: kubeconfigOf(as), ...opts.env }), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

/** kubectl that must succeed: its stdout, or an error with everything it printed. */
export async function kubectlOk(
  as: Identity,
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const r = await kubectl(as, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export async function getJson<T = any>(as: Identity, args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(as, ['get', ...args, '-o', 'json'])) as T;
}

export async function applyObjects(as: Identity, objects: unknown[], extraArgs: string[] = []): Promise<string> {
  return kubectlOk(as, ['apply', '-f', '-', ...extraArgs], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
}

/**
 * A service account with a real token from the TokenRequest API (`kubectl create token`), bound to
 * `clusterRole` when given. Returns an identity for kubectl() and the username the API server sees.
 */
export async function serviceAccount(namespace: string, name: string, clusterRole?: string): Promise<ServiceAccount> {
  await kubectlOk('admin', ['create', 'namespace', namespace, '--dry-run=client', '-o', 'json']).then((ns) =>
    applyObjects('admin', [JSON.parse(ns)]),
  );
  await kubectl('admin', ['create', 'serviceaccount', '-n', namespace, name]);
  if (clusterRole !== undefined)
    await kubectl('admin', [
      'create',
      'clusterrolebinding',
      `e2e-${namespace}-${name}`,
      `--clusterrole=${clusterRole}`,
      `--serviceaccount=${namespace}:${name}`,
    ]);
  return existingServiceAccount(namespace, name);
}

/** A namespace with labels, created (or updated) by the admin. */
export async function namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await applyObjects('admin', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }]);
}

/** Poll until `check` returns a value that is not undefined, or fail with what it last saw. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  // The first re-checks come soon (most waits end within a few hundred ms: an informer, a batch of
  // records), then every 250 ms: the same deadline, less time idle after the state was reached.
  for (let pause = 25; ; pause = Math.min(250, pause * 2)) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * Wait until `read` gives the same value (compared as JSON) twice `quietMs` apart: for counts that
 * others (controllers, a background writer) may still be raising. Fails when they still change
 * after `timeoutMs`.
 */
export async function steady<T>(what: string, read: () => Promise<T> | T, quietMs = 300, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = JSON.stringify(await read());
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const value = await read();
    const now = JSON.stringify(value);
    if (now === last) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} to stop changing (last ${now})`);
    last = now;
  }
}

/**
 * A service account that already exists (the controller manager's own, e.g.
 * kube-system/horizontal-pod-autoscaler), with a real token from the TokenRequest API.
 */
export async function existingServiceAccount(namespace: string, name: string): Promise<ServiceAccount> {
  const token = (await kubectlOk('admin', ['create', 'token', '-n', namespace, name, '--duration=2h'])).trim();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-sa-')), `${namespace}-${name}.kubeconfig`);
  const username = `system:serviceaccount:${namespace}:${name}`;
  writeFileSync(file, kubeconfig(cluster().server, cluster().caFile, username, token), { mode: 0o600 });
  return { kubeconfig: file, username };
}

/**
 * Scale the way the HPA controller does: GET the Scale, then PUT it back with new replicas
 * (`kubectl get --raw`, `kubectl replace --raw`: kubectl has no mapping for the Scale kind). Its
 * RBAC grants `*\/scale` only, so `kubectl scale`, which GETs the Deployment first, is forbidden to it.
 */
export async function putScale(
  as: Identity,
  group: string,
  resource: string,
  namespace: string,
  name: string,
  replicas: number,
): Promise<KubectlResult> {
  const url = `/apis/${group}/v1/namespaces/${namespace}/${resource}/${name}/scale`;
  // The PUT carries the resourceVersion read: a write in between (the deployment controller's
  // status) makes it a 409 Conflict, after which the HPA reads again on its next sync.
  for (let attempt = 1; ; attempt++) {
    const scale = JSON.parse(await kubectlOk(as, ['get', '--raw', url]));
    scale.spec.replicas = replicas;
    const r = await kubectl(as, ['replace', '--raw', url, '-f', '-'], { input: JSON.stringify(scale) });
    if (r.code === 0 || attempt === 5 || !r.stderr.includes('the object has been modified')) return r;
  }
}

export interface ApiResponse {
  status: number;
  body: any;
}

/** The bearer token of an identity's kubeconfig (the suite writes them as JSON). */
function tokenOf(as: Identity): string {
  const file = typeof as === 'string' ? cluster().kubeconfigs[as] : as.kubeconfig;
  const kc = JSON.parse(readFileSync(file, 'utf8')) as { users: { user: { token: string } }[] };
  return kc.users[0]!.user.token;
}

/** One request to the API server as `as`; resolves with any status, rejects only on a network error. */
export function apiRequest(
  as: Identity,
  method: string,
  apiPath: string,
  body?: unknown,
  contentType = 'application/merge-patch+json',
): Promise<ApiResponse> {
  const url = new URL(cluster().server + apiPath);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(cluster().caFile),
        headers: {
          authorization: `Bearer ${tokenOf(as)}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': payload.length }),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}
