/**
 * `npm run bench:apiserver` (and the second part of `npm run bench`): what an admission webhook
 * costs a user's write on a real API server, driftguard beside Kyverno, in one run on one server.
 *
 * The e2e control plane (test/e2e/cluster), the e2e policies (test/e2e/policies), and four write
 * loads, each writer its own object (writers of one object would measure the API server's conflict
 * retries), BENCH_WRITES (default 300) a load after a warm-up, sequential and at concurrency 10:
 * - a GitOps update: Argo CD's service account merge-PATCHes an annotation of a Deployment;
 * - a person's denied edit: alice (RBAC edit) merge-PATCHes the same annotation (denied by both
 *   driftguard and Kyverno's blocking policy; admitted with no webhook);
 * - an HPA scale: the horizontal-pod-autoscaler service account PATCHes deployments/scale;
 * - a ConfigMap update: Argo CD's service account merge-PATCHes a ConfigMap's data.
 * Through, in turn: no webhook; driftguard from dist/ with `observe: full` (the validating webhook
 * and the entry observer, as `driftguard manifests` renders them); driftguard with `--observe none`
 * (the validating webhook alone); Kyverno (scripts/kyverno-build.sh, the version in
 * test/bench/kyverno/go.mod) running out of cluster (`--serverIP`) with the blocking form of the
 * require-gitops ClusterPolicy (docs/performance.md, "Kyverno"). Before the blocking form, the
 * naive forms are applied and what Kyverno printed or let through is shown.
 *
 * Prints per case, load and concurrency: p50 and p99 wall time per write, the added p50/p99 over no
 * webhook, the webhook process's CPU per write (/proc/PID/stat), its RSS; then the ratios to Kyverno
 * against the targets (docs/performance.md), and the load average. Kyverno is skipped, saying why,
 * when it cannot be built or started, or with BENCH_KYVERNO=off; BENCH_DRIFTGUARD=off skips driftguard's
 * cases (no webhook and Kyverno alone). Not a CI gate.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { childEnv, freePort, kubectlAs, startControlPlane, type ControlPlane } from '../e2e/cluster/controlplane.js';
import { SERVE_NODE_FLAGS } from '../../scripts/serve-flags.mjs';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const WRITES = Number(process.env.BENCH_WRITES ?? 300);
const WARMUP = Math.min(50, WRITES);
const CONCURRENCY = [1, 10];
const NS = 'prod-bench';
const WORKERS = Math.max(...CONCURRENCY);
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

type Obj = Record<string, any>;
const log = (line = ''): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  return (await kubectlAs(cp, 'admin', args, input)).stdout;
}

/** kubectl as admin, its exit code and both streams (for what Kyverno answers). */
async function kubectlTry(cp: ControlPlane, args: string[], input?: string): Promise<{ code: number; out: string }> {
  try {
    const r = await kubectlAs(cp, 'admin', args, input);
    return { code: 0, out: `${r.stdout}${r.stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Load {
  name: string;
  token: string;
  /** Path and merge-patch body of write `i` by `worker`. */
  request(i: number, worker: number, tag: string): { path: string; body: unknown };
}

/**
 * `n` writes of `load` at `concurrency`, on kept-alive connections; the wall time of each, in ms, and
 * the statuses. A status other than 200 or `denial` fails the run: driftguard denies with 403; a
 * denial without a code (Kyverno's) reaches the requester as 400, the API server raising any code
 * under 400 to 400.
 */
async function writes(server: string, ca: string, load: Load, n: number, concurrency: number, tag: string, denial = 403) {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const times: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (i: number, worker: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const { path: p, body } = load.request(i, worker, tag);
      const text = JSON.stringify(body);
      const started = process.hrtime.bigint();
      const req = https.request(
        new URL(`${server}${p}`),
        {
          method: 'PATCH',
          agent,
          headers: {
            authorization: `Bearer ${load.token}`,
            'content-type': 'application/merge-patch+json',
            'content-length': Buffer.byteLength(text),
            accept: 'application/json',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status !== 200 && status !== denial) return reject(new Error(`${load.name} write ${i}: HTTP ${status}`));
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            times.push(Number(process.hrtime.bigint() - started) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < n) await one(next++, worker);
    }),
  );
  agent.destroy();
  return { times: times.sort((a, b) => a - b), statuses };
}

/** CPU time (user + system) of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

async function metricsCount(url: string, ca: string, route: string): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get(`${url}/metrics`, { ca }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (b += c));
        res.on('end', () => resolve(b));
      })
      .on('error', reject);
  });
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('driftguard_request_duration_seconds_count{') && line.includes(`route="${route}"`))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface Row {
  case: string;
  load: string;
  concurrency: number;
  p50: number;
  p99: number;
  cpuMsPerWrite?: number;
  rssMb?: number;
  statuses: string;
}

const KYVERNO_POLICY = (form: 'naive' | 'audit' | 'enforce' | 'blocking'): Obj => {
  const subject: Obj = { kind: 'ServiceAccount', name: 'argocd-application-controller' };
  const validate: Obj = { message: 'Only Argo CD may change objects in prod namespaces: change Git instead.', deny: {} };
  const spec: Obj = {
    rules: [
      {
        name: 'only-argocd',
        match: { any: [{ resources: { kinds: ['Deployment', 'ConfigMap'], namespaces: ['prod-*'] } }] },
        exclude: { any: [{ subjects: [subject] }] },
        validate,
      },
    ],
  };
  if (form !== 'naive') {
    spec.background = false;
    subject.namespace = 'argocd';
  }
  if (form === 'enforce' || form === 'blocking') validate.failureAction = 'Enforce';
  if (form === 'blocking') validate.allowExistingViolations = false;
  return { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'require-gitops' }, spec };
};

async function main(): Promise<void> {
  if (process.env.BENCH_APISERVER === 'off') return log('apiserver bench: skipped (BENCH_APISERVER=off)');
  const built = spawnSync('bash', [path.join(REPO, 'scripts/e2e-cluster.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status === 3) return log('apiserver bench: SKIPPED, no Go toolchain to build the control plane');
  if (built.status !== 0) throw new Error(`scripts/e2e-cluster.sh failed (${built.status})`);
  const binDir = built.stdout.trim().split('\n').pop()!;
  const kyvernoBuilt =
    process.env.BENCH_KYVERNO === 'off'
      ? { status: -1, stdout: '', stderr: 'BENCH_KYVERNO=off' }
      : spawnSync('bash', [path.join(REPO, 'scripts/kyverno-build.sh')], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const kyvernoDir = kyvernoBuilt.status === 0 ? kyvernoBuilt.stdout.trim().split('\n').pop()! : undefined;
  if (kyvernoDir === undefined)
    log(
      `apiserver bench: Kyverno not built (scripts/kyverno-build.sh exit ${kyvernoBuilt.status}): ${kyvernoBuilt.stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  const loadBefore = os.loadavg();
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-bench-apiserver-'));
  const cp = await startControlPlane({ binDir, dir: path.join(dir, 'cluster') });
  const children: ChildProcess[] = [];
  try {
    const caApi = readFileSync(cp.caFile, 'utf8');
    await kubectl(cp, ['create', 'namespace', NS]);
    await kubectl(cp, ['create', 'namespace', 'argocd']);
    await kubectl(cp, ['create', 'serviceaccount', '-n', 'argocd', 'argocd-application-controller']);
    await kubectlTry(cp, ['create', 'serviceaccount', '-n', 'kube-system', 'horizontal-pod-autoscaler']);
    for (const [name, sa] of [
      ['bench-argocd', 'argocd:argocd-application-controller'],
      ['bench-hpa', 'kube-system:horizontal-pod-autoscaler'],
    ] as const)
      await kubectl(cp, ['create', 'clusterrolebinding', name, '--clusterrole=cluster-admin', `--serviceaccount=${sa}`]);
    const saToken = async (ns: string, name: string) => (await kubectl(cp, ['create', 'token', '-n', ns, name, '--duration=2h'])).trim();
    const argocd = await saToken('argocd', 'argocd-application-controller');
    const hpa = await saToken('kube-system', 'horizontal-pod-autoscaler');
    const alice = (parseYaml(readFileSync(cp.kubeconfigs.alice, 'utf8')) as Obj).users[0].user.token as string;
    const tracking = (kind: string, name: string) => ({ 'argocd.argoproj.io/tracking-id': `shop:${kind}:${NS}/${name}` });
    const objects: Obj[] = [];
    for (let i = 0; i < WORKERS; i++) {
      objects.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `web-${i}`, namespace: NS, annotations: tracking('apps/Deployment', `web-${i}`) },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: `web-${i}` } },
          template: {
            metadata: { labels: { app: `web-${i}` } },
            spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/web:1.0.0' }] },
          },
        },
      });
      objects.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cfg-${i}`, namespace: NS, annotations: tracking('/ConfigMap', `cfg-${i}`) },
        data: { mode: 'a' },
      });
    }
    await kubectl(cp, ['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
    const deploy = (w: number) => `/apis/apps/v1/namespaces/${NS}/deployments/web-${w}`;
    const LOADS: Load[] = [
      {
        name: 'a GitOps update',
        token: argocd,
        request: (i, w, tag) => ({ path: deploy(w), body: { metadata: { annotations: { 'bench.driftguard.io/seq': `${tag}-${i}` } } } }),
      },
      {
        name: "a person's denied edit",
        token: alice,
        request: (i, w, tag) => ({
          path: deploy(w),
          body: { metadata: { annotations: { 'bench.driftguard.io/by-hand': `${tag}-${i}` } } },
        }),
      },
      { name: 'an HPA scale', token: hpa, request: (i, w) => ({ path: `${deploy(w)}/scale`, body: { spec: { replicas: 2 + (i % 2) } } }) },
      {
        name: 'a ConfigMap update',
        token: argocd,
        request: (i, w, tag) => ({ path: `/api/v1/namespaces/${NS}/configmaps/cfg-${w}`, body: { data: { seq: `${tag}-${i}` } } }),
      },
    ];

    const rows: Row[] = [];
    const measure = async (label: string, pid?: number, denial?: number): Promise<void> => {
      for (const load of LOADS)
        for (const c of CONCURRENCY) {
          await writes(cp.server, caApi, load, WARMUP, c, `${label}-warm`, denial);
          const cpu0 = pid === undefined ? 0 : cpuMs(pid);
          const r = await writes(cp.server, caApi, load, WRITES, c, label.replace(/\W+/g, '-'), denial);
          const row: Row = {
            case: label,
            load: load.name,
            concurrency: c,
            p50: percentile(r.times, 50),
            p99: percentile(r.times, 99),
            statuses: [...r.statuses].map(([s, n]) => `${n}x${s}`).join(' '),
          };
          if (pid !== undefined) {
            row.cpuMsPerWrite = (cpuMs(pid) - cpu0) / WRITES;
            row.rssMb = rssMb(pid);
          }
          rows.push(row);
          log(
            `  ${label.padEnd(26)} ${load.name.padEnd(24)} c=${String(c).padEnd(2)} p50 ${row.p50.toFixed(2)} ms  p99 ${row.p99.toFixed(2)} ms` +
              `${row.cpuMsPerWrite === undefined ? '' : `  CPU ${row.cpuMsPerWrite.toFixed(3)} ms/write  RSS ${row.rssMb!.toFixed(0)} MB`}  (${row.statuses})`,
          );
        }
    };
    log(
      `apiserver bench: control plane from ${binDir}; ${WRITES} writes per load and concurrency (after ${WARMUP}); load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
    );
    await measure('no webhook');

    if (process.env.BENCH_DRIFTGUARD === 'off') log('  driftguard: skipped (BENCH_DRIFTGUARD=off)');
    else await driftguardCases();
    async function driftguardCases(): Promise<void> {
      // driftguard, its webhook configurations as `driftguard manifests` renders them, pointed at 127.0.0.1.
      const certs = path.join(dir, 'certs');
      await run(process.execPath, [path.join(REPO, 'dist/cli.js'), 'certs', '--out', certs, '--san', '127.0.0.1', '--force']);
      const dgCa = readFileSync(path.join(certs, 'ca.crt'), 'utf8');
      const startDriftguard = async (observe: 'full' | 'none') => {
        const port = await freePort();
        const child = spawn(
          process.execPath,
          [
            ...SERVE_NODE_FLAGS,
            path.join(REPO, 'dist/cli.js'),
            'serve',
            '--host=127.0.0.1',
            `--port=${port}`,
            `--tls-cert=${path.join(certs, 'tls.crt')}`,
            `--tls-key=${path.join(certs, 'tls.key')}`,
            `--policies=${path.join(REPO, 'test/e2e/policies')}`,
            `--records=${path.join(dir, `records-${observe}.jsonl`)}`,
            `--observe=${observe}`,
            '--log-level=warn',
          ],
          { stdio: ['ignore', 'ignore', 'inherit'], env: childEnv() },
        );
        children.push(child);
        const url = `https://127.0.0.1:${port}`;
        await eventually('driftguard to serve', () => metricsCount(url, dgCa, '/readyz').then(() => true), 30_000);
        const yaml = (
          await run(process.execPath, [
            path.join(REPO, 'dist/cli.js'),
            'manifests',
            '--policies',
            path.join(REPO, 'test/e2e/policies'),
            '--ca',
            path.join(certs, 'ca.crt'),
            `--observe=${observe}`,
          ])
        ).stdout;
        const configs = parseAllDocuments(yaml)
          .map((d) => d.toJS() as Obj | null)
          .filter((o): o is Obj => o !== null);
        for (const o of configs)
          for (const w of o.webhooks) w.clientConfig = { url: `${url}${w.clientConfig.service.path}`, caBundle: w.clientConfig.caBundle };
        return { child, url, configs };
      };
      const routes = ['/validate', '/observe/entry'];
      const counts = (url: string) => Promise.all(routes.map((r) => metricsCount(url, dgCa, r)));
      const gitopsProbe = (tag: string) => writes(cp.server, caApi, LOADS[0]!, 1, 1, tag);

      const full = await startDriftguard('full');
      await kubectl(cp, ['apply', '-f', '-'], full.configs.map((o) => JSON.stringify(o)).join('\n'));
      await eventually(
        'driftguard (observe full) to be called',
        async () => {
          const c0 = await counts(full.url);
          await gitopsProbe('probe-full');
          const c1 = await counts(full.url);
          return c1.every((n, i) => n > c0[i]!) ? true : undefined;
        },
        60_000,
      );
      const c0 = await counts(full.url);
      await measure('driftguard, observe full', full.child.pid!);
      const c1 = await counts(full.url);
      const perLoad = WRITES + WARMUP;
      log(
        `  calls: validate ${c1[0]! - c0[0]!}, observe/entry ${c1[1]! - c0[1]!} for ${LOADS.length * CONCURRENCY.length * perLoad} writes (${CONCURRENCY.length * perLoad} of them people's, denied: no final record)`,
      );
      full.child.kill('SIGTERM');

      const none = await startDriftguard('none');
      await kubectl(cp, ['delete', 'mutatingwebhookconfiguration', '0-driftguard-observe-entry']);
      await kubectl(cp, ['apply', '-f', '-'], none.configs.map((o) => JSON.stringify(o)).join('\n'));
      await eventually(
        'driftguard (observe none) to be called, and its observer no more',
        async () => {
          const c = await counts(none.url);
          await gitopsProbe('probe-none');
          await sleep(500);
          await gitopsProbe('probe-none');
          const d = await counts(none.url);
          return d[0]! >= c[0]! + 2 && d[1] === c[1] ? true : undefined;
        },
        60_000,
      );
      await measure('driftguard, observe none', none.child.pid!);
      none.child.kill('SIGTERM');
      await kubectl(cp, ['delete', 'validatingwebhookconfiguration', 'driftguard']);
    }

    if (kyvernoDir !== undefined) await kyvernoCase(cp, kyvernoDir, dir, children, LOADS, measure, caApi);

    // The summary: what each webhook adds to the no-webhook figures, and the ratios to Kyverno.
    const find = (c: string, load: string, conc: number) => rows.find((r) => r.case === c && r.load === load && r.concurrency === conc);
    log();
    log('| case | load | conc. | added p50 ms | added p99 ms | CPU ms/write | RSS MB |');
    log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      if (r.case === 'no webhook') continue;
      const base = find('no webhook', r.load, r.concurrency)!;
      log(
        `| ${r.case} | ${r.load} | ${r.concurrency} | ${(r.p50 - base.p50).toFixed(2)} | ${(r.p99 - base.p99).toFixed(2)} | ${r.cpuMsPerWrite?.toFixed(3) ?? '-'} | ${r.rssMb?.toFixed(0) ?? '-'} |`,
      );
    }
    // The ratios need both sides: Kyverno and driftguard's two cases (BENCH_DRIFTGUARD=off has no ratios).
    if (rows.some((r) => r.case === 'Kyverno') && rows.some((r) => r.case.startsWith('driftguard'))) {
      log();
      log('ratios to Kyverno (added latency, CPU per write), against the targets:');
      for (const load of LOADS)
        for (const c of CONCURRENCY) {
          const base = find('no webhook', load.name, c)!;
          const k = find('Kyverno', load.name, c)!;
          const f = find('driftguard, observe full', load.name, c)!;
          const n = find('driftguard, observe none', load.name, c)!;
          const add = (r: Row) => ({ p50: r.p50 - base.p50, p99: r.p99 - base.p99 });
          const [ka, fa, na] = [add(k), add(f), add(n)];
          const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
          const ok = (v: boolean) => (v ? 'met' : 'MISSED');
          log(
            `  ${load.name.padEnd(24)} c=${String(c).padEnd(2)} full: p50 ${ratio(fa.p50, ka.p50)} (<= 1: ${ok(fa.p50 <= ka.p50)}), p99 ${ratio(fa.p99, ka.p99)} (<= 1: ${ok(fa.p99 <= ka.p99)}), ` +
              `CPU ${ratio(f.cpuMsPerWrite!, k.cpuMsPerWrite!)} (<= 0.6: ${ok(f.cpuMsPerWrite! <= 0.6 * k.cpuMsPerWrite!)}); none: p50 ${ratio(na.p50, ka.p50)} (<= 0.5: ${ok(na.p50 <= 0.5 * ka.p50)}), CPU ${ratio(n.cpuMsPerWrite!, k.cpuMsPerWrite!)}`,
          );
        }
    }
    log(
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${os.cpus().length} cores, shared)`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Kyverno out of cluster: its CRDs (from the module the wrapper module downloaded), its namespace,
 * then the binary with --serverIP 127.0.0.1:PORT (it registers its own webhooks, with a URL, and
 * makes its own certificate for that address). The naive policy forms first, then the blocking one.
 */
/** Kyverno's denial sets no code, so the requester gets 400 (see `writes`). */
const KYVERNO_DENIAL = 400;

async function kyvernoCase(
  cp: ControlPlane,
  kyvernoDir: string,
  dir: string,
  children: ChildProcess[],
  loads: Load[],
  measure: (label: string, pid?: number, denial?: number) => Promise<void>,
  caApi: string,
): Promise<void> {
  const moduleDir = spawnSync('go', ['list', '-m', '-f', '{{.Dir}}', 'github.com/kyverno/kyverno'], {
    cwd: path.join(REPO, 'test/bench/kyverno'),
    encoding: 'utf8',
  }).stdout.trim();
  const crdDir = path.join(moduleDir, 'config/crds');
  for (const sub of readdirSync(crdDir))
    for (const f of readdirSync(path.join(crdDir, sub)).filter((x) => x.endsWith('.yaml')))
      await kubectl(cp, ['apply', '--server-side', '-f', path.join(crdDir, sub, f)]);
  await kubectl(cp, ['create', 'namespace', 'kyverno']);
  await kubectl(cp, ['create', 'configmap', 'kyverno', '-n', 'kyverno']);
  await kubectl(cp, ['create', 'configmap', 'kyverno-metrics', '-n', 'kyverno']);
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(
    path.join(kyvernoDir, 'kyverno'),
    [
      `--kubeconfig=${cp.kubeconfigs.admin}`,
      `--serverIP=127.0.0.1:${port}`,
      `--servicePort=${port}`,
      '--webhookServerHost=127.0.0.1',
      `--webhookServerPort=${port}`,
      '--metricsHost=127.0.0.1',
      `--metricsPort=${metricsPort}`,
      '--controllerRuntimeMetricsAddress=0',
      // Required (cmd/kyverno/main.go); the names its chart gives them. Kyverno creates both Secrets.
      '--caSecretName=kyverno-svc.kyverno.svc.kyverno-tls-ca',
      '--tlsSecretName=kyverno-svc.kyverno.svc.kyverno-tls-pair',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv({
        KYVERNO_NAMESPACE: 'kyverno',
        KYVERNO_POD_NAME: 'kyverno-bench',
        KYVERNO_SERVICEACCOUNT_NAME: 'kyverno',
        KYVERNO_DEPLOYMENT: 'kyverno',
        // Kyverno refuses to start without these (cmd/internal/check.go); its chart sets them.
        INIT_CONFIG: 'kyverno',
        METRICS_CONFIG: 'kyverno-metrics',
        KYVERNO_ROLE_NAME: 'kyverno',
        KYVERNO_SVC: 'kyverno-svc',
        TUF_ROOT: path.join(dir, 'kyverno-tuf'),
      }),
    },
  );
  children.push(child);
  const out: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  const denied = loads[1]!;
  const aliceWrite = async (tag: string) => {
    const r = await writes(cp.server, caApi, denied, 1, 1, tag, KYVERNO_DENIAL).catch((err: Error) => ({
      statuses: new Map([[0, 1]]),
      err,
    }));
    return [...r.statuses.keys()][0];
  };
  try {
    const apply = (form: Parameters<typeof KYVERNO_POLICY>[0]) =>
      kubectlTry(cp, ['apply', '-f', '-'], JSON.stringify(KYVERNO_POLICY(form)));
    await eventually(
      "Kyverno's webhooks to be registered",
      async () =>
        (await kubectlTry(cp, ['get', 'validatingwebhookconfigurations', '-o', 'name'])).out.includes('kyverno') ? true : undefined,
      180_000,
    );
    log();
    log('Kyverno: the require-gitops policy in its forms (docs/performance.md, "Kyverno"):');
    // Kyverno registers its webhooks before its serving certificate is in place: until then the
    // API server's call to it fails ("remote error: tls: internal error"), so wait for an answer.
    const naive = await eventually(
      'Kyverno to answer its own webhook',
      async () => {
        const r = await apply('naive');
        return r.out.includes('failed calling webhook') ? undefined : r;
      },
      120_000,
    );
    log(`  as the documentation style writes it: kubectl apply exit ${naive.code}: ${naive.out.trim()}`);
    for (const form of ['audit', 'enforce'] as const) {
      const r = await apply(form);
      await sleep(3000);
      log(
        `  ${form === 'audit' ? 'background: false, the subject namespaced (Audit by default)' : 'with failureAction: Enforce'}: apply exit ${r.code} (${r.out.trim()}); alice's UPDATE answered ${await aliceWrite(`kyverno-${form}`)}`,
      );
    }
    const r = await apply('blocking');
    log(`  with allowExistingViolations: false: apply exit ${r.code} (${r.out.trim()})`);
    const appliedAt = Date.now();
    const blocked = await eventually(
      'the blocking policy to deny alice',
      async () => {
        const status = await aliceWrite('kyverno-blocking');
        return status === KYVERNO_DENIAL ? status : undefined;
      },
      300_000,
    );
    log(`  alice's UPDATE answered ${blocked}, ${((Date.now() - appliedAt) / 1000).toFixed(1)} s after the apply`);
    await measure('Kyverno', child.pid!, KYVERNO_DENIAL);
  } catch (err) {
    log(`Kyverno case failed: ${(err as Error).message}; its last output:\n${out.join('').split('\n').slice(-20).join('\n')}`);
    mkdirSync(path.join(REPO, '.bench'), { recursive: true });
    writeFileSync(path.join(REPO, '.bench/kyverno.log'), out.join(''));
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`apiserver bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
