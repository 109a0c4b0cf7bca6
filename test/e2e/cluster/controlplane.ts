/**
 * A real control plane on loopback, for the end-to-end suite: etcd, kube-apiserver and
 * kube-controller-manager built by scripts/e2e-cluster.sh, started in a temp dir the way
 * controller-runtime's envtest starts etcd and kube-apiserver, plus the controller manager so that
 * the deployment controller, ReplicaSets and the garbage collector are real traffic. No kubelet, no
 * scheduler: Pods stay Pending, which nothing here needs.
 *
 * Identities: a static token file for the humans, the admin and the controller manager;
 * service accounts get real tokens from the TokenRequest API (`kubectl create token`).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeFileSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateCa, issueServingCertificate } from '../../../src/certs/generate.js';

/** The repository root (the audit policy the API server is started with is its manifests/audit/audit-policy.yaml). */
const REPO = path.resolve(import.meta.dirname, '../../..');

const run = promisify(execFile);

/** A person or a component with a static token (the API server's --token-auth-file). */
interface StaticUser {
  name: string;
  groups: string[];
}

/** The humans of the suite: RBAC gives the developers group `edit`, so driftguard is what stops them. */
const USERS = {
  admin: { name: 'e2e-admin', groups: ['system:masters'] },
  controllerManager: { name: 'system:kube-controller-manager', groups: [] },
  alice: { name: 'alice@example.com', groups: ['e2e:developers'] },
  bob: { name: 'bob@example.com', groups: ['e2e:developers', 'oncall'] },
  carol: { name: 'carol@example.com', groups: ['e2e:developers', 'breakglass'] },
} as const satisfies Record<string, StaticUser>;

export type UserName = keyof typeof USERS;

const DEVELOPERS_GROUP = 'e2e:developers';

export interface ControlPlaneInfo {
  /** https://127.0.0.1:PORT */
  server: string;
  /** The CA that signed the API server's serving certificate. */
  caFile: string;
  dir: string;
  binDir: string;
  /** A kubeconfig per static user. */
  kubeconfigs: Record<UserName, string>;
  pids: number[];
  /**
   * The API server's audit log (--audit-log-path, the policy manifests/audit/audit-policy.yaml) and
   * its audit webhook backend, which posts to https://127.0.0.1:PORT/audit with this bearer token:
   * a file that starts `serve --audit-webhook` there receives the batches (test/e2e/audit-log.test.ts).
   * Nobody listens there otherwise: the batch backend buffers, retries in the background and
   * drops, and no request waits on it.
   */
  audit: { logFile: string; webhookPort: number; tokenFile: string };
}

export interface ControlPlane extends ControlPlaneInfo {
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function kubeconfig(server: string, caFile: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user } }],
    'current-context': 'e2e',
  });
}

/** The environment every child gets: no proxy may stand between the API server and loopback. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(https?|no|all)_proxy$/i.test(k)) env[k] = v;
  return { ...env, NO_PROXY: '127.0.0.1,localhost', ...extra };
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

function start(name: string, bin: string, args: string[], logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: childEnv() });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, exited };
}

async function stopProc(p: Proc, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, procs: Proc[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead !== undefined)
      throw new Error(`${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function kubectlAs(info: Pick<ControlPlaneInfo, 'binDir' | 'kubeconfigs'>, user: UserName, args: string[], input?: string) {
  const child = run(path.join(info.binDir, 'kubectl'), args, {
    env: childEnv({ KUBECONFIG: info.kubeconfigs[user] }),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return child;
}

/**
 * Start etcd, kube-apiserver and kube-controller-manager from `binDir` in `dir`. Resolves when the
 * API server is ready and the bootstrap RBAC roles exist; rejects (after stopping what started) if
 * any of them exits or does not come up in time.
 */
export async function startControlPlane(opts: { binDir: string; dir: string }): Promise<ControlPlane> {
  const { binDir, dir } = opts;
  const pki = path.join(dir, 'pki');
  const logs = path.join(dir, 'logs');
  mkdirSync(pki, { recursive: true });
  mkdirSync(logs, { recursive: true });

  const now = new Date();
  const ca = await generateCa({ namespace: 'kubernetes', now });
  const serving = await issueServingCertificate(ca, {
    service: 'kubernetes',
    namespace: 'default',
    extraNames: ['127.0.0.1', 'localhost', 'kubernetes.default.svc.cluster.local'],
    now,
  });
  const caFile = path.join(pki, 'ca.crt');
  writeFileSync(caFile, ca.cert);
  writeFileSync(path.join(pki, 'apiserver.crt'), serving.cert);
  writeFileSync(path.join(pki, 'apiserver.key'), serving.key, { mode: 0o600 });
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(path.join(pki, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(path.join(pki, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));

  const tokens = Object.fromEntries(Object.keys(USERS).map((k) => [k, randomBytes(24).toString('hex')])) as Record<UserName, string>;
  const tokenFile = path.join(pki, 'tokens.csv');
  writeFileSync(
    tokenFile,
    Object.entries(USERS)
      .map(([k, u]) => `${tokens[k as UserName]},${u.name},${k}-uid,"${u.groups.join(',')}"`)
      .join('\n') + '\n',
    { mode: 0o600 },
  );

  const [etcdClient, etcdPeer, apiPort, auditPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const auditToken = randomBytes(24).toString('hex');
  const audit = { logFile: path.join(logs, 'audit.log'), webhookPort: auditPort, tokenFile: path.join(pki, 'audit-webhook.token') };
  writeFileSync(audit.tokenFile, `${auditToken}\n`, { mode: 0o600 });
  const auditKubeconfig = path.join(pki, 'audit-webhook.kubeconfig');
  // driftguard's serving certificate is made per test file, after this API server starts and reads
  // this file: the test control plane skips verifying it (manifests/audit/audit-webhook-kubeconfig.yaml
  // verifies, as a cluster should). The bearer token is checked by driftguard.
  writeFileSync(
    auditKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'driftguard', cluster: { server: `https://127.0.0.1:${auditPort}/audit`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'kube-apiserver', user: { token: auditToken } }],
      contexts: [{ name: 'driftguard', context: { cluster: 'driftguard', user: 'kube-apiserver' } }],
      'current-context': 'driftguard',
    }),
    { mode: 0o600 },
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfigs = {} as Record<UserName, string>;
  for (const [k, u] of Object.entries(USERS)) {
    const file = path.join(dir, `${k}.kubeconfig`);
    writeFileSync(file, kubeconfig(server, caFile, u.name, tokens[k as UserName]), { mode: 0o600 });
    kubeconfigs[k as UserName] = file;
  }

  const procs: Proc[] = [];
  const stop = async (): Promise<void> => {
    // Reverse order: the controller manager, then the API server, then etcd.
    for (const p of [...procs].reverse()) await stopProc(p);
  };
  try {
    procs.push(
      start(
        'etcd',
        path.join(binDir, 'etcd'),
        [
          '--name=e2e',
          `--data-dir=${path.join(dir, 'etcd')}`,
          `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
          `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
          // A test cluster: durability of etcd's own writes is not under test, speed is.
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        path.join(logs, 'etcd.log'),
      ),
    );
    await waitFor('etcd', async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok, procs, 30_000);

    procs.push(
      start(
        'kube-apiserver',
        path.join(binDir, 'kube-apiserver'),
        [
          `--etcd-servers=http://127.0.0.1:${etcdClient}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          `--cert-dir=${path.join(dir, 'apiserver')}`,
          `--tls-cert-file=${path.join(pki, 'apiserver.crt')}`,
          `--tls-private-key-file=${path.join(pki, 'apiserver.key')}`,
          `--token-auth-file=${tokenFile}`,
          '--authorization-mode=RBAC',
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-account-key-file=${path.join(pki, 'sa.pub')}`,
          `--service-account-signing-key-file=${path.join(pki, 'sa.key')}`,
          '--service-cluster-ip-range=10.96.0.0/16',
          // No Endpoints for the `kubernetes` Service: loopback is not a valid endpoint address.
          '--endpoint-reconciler-type=none',
          '--profiling=false',
          `--audit-policy-file=${path.join(REPO, 'manifests/audit/audit-policy.yaml')}`,
          `--audit-log-path=${audit.logFile}`,
          `--audit-webhook-config-file=${auditKubeconfig}`,
          // Batches within 200 ms, retried 1 s after a failure (defaults: 30 s and 10 s), so a test sees them soon.
          '--audit-webhook-batch-max-wait=200ms',
          '--audit-webhook-initial-backoff=1s',
          '--v=0',
        ],
        path.join(logs, 'kube-apiserver.log'),
      ),
    );
    const adminArgs = (args: string[]) => kubectlAs({ binDir, kubeconfigs }, 'admin', args);
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await adminArgs(['get', '--raw', '/readyz'])).stdout.trim() === 'ok',
      procs,
      90_000,
    );
    // The bootstrap roles (edit, system:controller:*) are created by a post-start hook.
    await waitFor(
      'the bootstrap RBAC roles',
      async () => (await adminArgs(['get', 'clusterrole', 'edit', '-o', 'name'])).stdout.includes('edit'),
      procs,
      30_000,
    );

    procs.push(
      start(
        'kube-controller-manager',
        path.join(binDir, 'kube-controller-manager'),
        [
          `--kubeconfig=${kubeconfigs.controllerManager}`,
          // Each controller acts as its own service account (deployment-controller,
          // generic-garbage-collector, horizontal-pod-autoscaler), as in a kubeadm cluster.
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${path.join(pki, 'sa.key')}`,
          `--root-ca-file=${caFile}`,
          '--leader-elect=false',
          '--secure-port=0',
          '--controllers=*',
          '--v=0',
        ],
        path.join(logs, 'kube-controller-manager.log'),
      ),
    );
    // Ready when it has created its controllers' service accounts (it does so as they start).
    await waitFor(
      'kube-controller-manager',
      async () =>
        (
          await adminArgs([
            'get',
            'serviceaccount',
            '-n',
            'kube-system',
            'deployment-controller',
            'generic-garbage-collector',
            '-o',
            'name',
          ])
        ).stdout
          .split('\n')
          .filter(Boolean).length === 2,
      procs,
      60_000,
    );
    // `edit` is an aggregated role: its rules appear once the controller manager aggregated them.
    await waitFor(
      'the aggregated edit role',
      async () => (JSON.parse((await adminArgs(['get', 'clusterrole', 'edit', '-o', 'json'])).stdout).rules ?? []).length > 0,
      procs,
      30_000,
    );
    await adminArgs(['create', 'clusterrolebinding', 'e2e-developers-edit', '--clusterrole=edit', `--group=${DEVELOPERS_GROUP}`]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, caFile, dir, binDir, kubeconfigs, pids: procs.map((p) => p.child.pid!), audit, stop };
}
