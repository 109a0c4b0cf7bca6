/**
 * `npm run bench`, second part: what driftguard costs a user's write on a real API server.
 *
 * The e2e control plane (test/e2e/cluster) with driftguard from dist/ installed as users install it
 * (the rendered webhook configurations, clientConfig pointed at 127.0.0.1). Argo CD's service account
 * PATCHes Argo CD–tracked Deployments in a covered namespace (an annotation, merge patch, so the
 * write is admitted and all three webhooks are called and record it), each concurrent writer its own
 * Deployment (writers of one object would measure the API server's conflict retries, which call
 * every webhook again: that is the conflicts test's subject, not this one), first with no webhook
 * registered, then with the three: BENCH_PATCHES (default 2000) at concurrency 1 and 10 each, after
 * a warm-up, and between the two the same three registrations answered by the bare floor server
 * (test/bench/floor.mjs), which separates what any webhook costs the API server from driftguard's
 * own cost. Prints p50/p99 per case and the difference, against the target of +1.5 ms p50 and
 * +5 ms p99 for the three calls together, and checks that each write reached every webhook.
 * Skipped (exit 0) when the control plane cannot be built (no Go).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { childEnv, freePort, kubectlAs, startControlPlane, type ControlPlane } from '../e2e/cluster/controlplane.js';
import { SERVE_NODE_FLAGS } from '../../scripts/serve-flags.mjs';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const PATCHES = Number(process.env.BENCH_PATCHES ?? 2000);
const WARMUP = Math.min(300, PATCHES);
const NS = 'prod-bench';
const TARGET = { p50Ms: 1.5, p99Ms: 5 };

type Obj = Record<string, any>;
const log = (line = ''): void => void process.stdout.write(`${line}\n`);

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  return (await kubectlAs(cp, 'admin', args, input)).stdout;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** PATCH the Deployment `n` times at `concurrency`; the latency of each, in ms. */
async function patches(server: string, ca: string, token: string, n: number, concurrency: number, tag: string): Promise<number[]> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const times: number[] = [];
  let next = 0;
  const one = (i: number, worker: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ metadata: { annotations: { 'bench.driftguard.io/seq': `${tag}-${i}` } } });
      const started = process.hrtime.bigint();
      const req = https.request(
        new URL(`${server}/apis/apps/v1/namespaces/${NS}/deployments/web-${worker}`),
        {
          method: 'PATCH',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/merge-patch+json',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`PATCH ${i}: HTTP ${res.statusCode}`));
            times.push(Number(process.hrtime.bigint() - started) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < n) await one(next++, worker);
    }),
  );
  agent.destroy();
  return times.sort((a, b) => a - b);
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

async function main(): Promise<void> {
  if (process.env.BENCH_APISERVER === 'off') return log('apiserver bench: skipped (BENCH_APISERVER=off)');
  const built = spawnSync('bash', [path.join(REPO, 'scripts/e2e-cluster.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status === 3) return log('apiserver bench: SKIPPED, no Go toolchain to build the control plane');
  if (built.status !== 0) throw new Error(`scripts/e2e-cluster.sh failed (${built.status})`);
  const binDir = built.stdout.trim().split('\n').pop()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-bench-apiserver-'));
  const cp = await startControlPlane({ binDir, dir: path.join(dir, 'cluster') });
  let dg: ReturnType<typeof spawn> | undefined;
  let floor: ReturnType<typeof spawn> | undefined;
  try {
    const caApi = readFileSync(cp.caFile, 'utf8');
    await kubectl(cp, ['create', 'namespace', NS]);
    await kubectl(cp, ['create', 'namespace', 'argocd']);
    await kubectl(cp, ['create', 'serviceaccount', '-n', 'argocd', 'argocd-application-controller']);
    await kubectl(cp, [
      'create',
      'clusterrolebinding',
      'argocd',
      '--clusterrole=cluster-admin',
      '--serviceaccount=argocd:argocd-application-controller',
    ]);
    const token = (await kubectl(cp, ['create', 'token', '-n', 'argocd', 'argocd-application-controller', '--duration=2h'])).trim();
    const deployment = (name: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: NS, annotations: { 'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:${NS}/${name}` } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'registry.example.com/shop/web:1.0.0' }] },
        },
      },
    });
    await kubectl(cp, ['apply', '-f', '-'], Array.from({ length: 10 }, (_, i) => JSON.stringify(deployment(`web-${i}`))).join('\n'));

    const results: Record<string, number[]> = {};
    const measure = async (label: string): Promise<void> => {
      for (const c of [1, 10]) {
        await patches(cp.server, caApi, token, WARMUP, c, `${label}-warm${c}`);
        results[`${label} c=${c}`] = await patches(cp.server, caApi, token, PATCHES, c, `${label}-c${c}`);
      }
    };
    log(`apiserver bench: Kubernetes control plane from ${binDir}, ${PATCHES} PATCHes per case (after ${WARMUP} warm-up)`);
    await measure('no webhooks');

    // driftguard as users install it, the webhook configurations pointed at 127.0.0.1.
    const manifests = path.join(dir, 'manifests');
    await run('cp', ['-r', path.join(REPO, 'manifests'), manifests]);
    await run(process.execPath, [
      path.join(REPO, 'dist/cli.js'),
      'certs',
      '--out',
      path.join(manifests, 'certs'),
      '--san',
      '127.0.0.1',
      '--force',
    ]);
    const port = await freePort();
    const records = path.join(dir, 'records.jsonl');
    dg = spawn(
      process.execPath,
      [
        ...SERVE_NODE_FLAGS,
        path.join(REPO, 'dist/cli.js'),
        'serve',
        '--host=127.0.0.1',
        `--port=${port}`,
        `--tls-cert=${path.join(manifests, 'certs/tls.crt')}`,
        `--tls-key=${path.join(manifests, 'certs/tls.key')}`,
        `--policies=${path.join(REPO, 'test/e2e/policies')}`,
        `--records=${records}`,
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: childEnv() },
    );
    const dgUrl = `https://127.0.0.1:${port}`;
    const dgCa = readFileSync(path.join(manifests, 'certs/ca.crt'), 'utf8');
    const objects = parseAllDocuments(await kubectl(cp, ['kustomize', manifests]))
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null && /WebhookConfiguration$/.test(o.kind));
    for (const o of objects)
      for (const w of o.webhooks)
        w.clientConfig = { url: `https://127.0.0.1:${port}${w.clientConfig.service.path}`, caBundle: w.clientConfig.caBundle };
    const at = (p: number) =>
      objects.map((o) => {
        const copy = structuredClone(o);
        for (const w of copy.webhooks) w.clientConfig = { ...w.clientConfig, url: w.clientConfig.url.replace(/:\d+\//, `:${p}/`) };
        return copy;
      });

    // The same three registrations answered by the floor (test/bench/floor.mjs: parse, answer
    // allowed): what any webhook costs the API server, so the rest is driftguard's own.
    const floorPort = await freePort();
    floor = spawn(
      process.execPath,
      [
        path.join(REPO, 'test/bench/floor.mjs'),
        path.join(manifests, 'certs/tls.crt'),
        path.join(manifests, 'certs/tls.key'),
        String(floorPort),
      ],
      { stdio: 'ignore', env: childEnv() },
    );
    await new Promise((r) => setTimeout(r, 500));
    await kubectl(
      cp,
      ['apply', '-f', '-'],
      at(floorPort)
        .map((o) => JSON.stringify(o))
        .join('\n'),
    );
    // The floor counts nothing: give the API server's informer time, then the warm-up runs on it.
    await new Promise((r) => setTimeout(r, 3000));
    await measure('three floor webhooks');
    floor.kill('SIGTERM');

    for (let i = 0; ; i++) {
      if (
        await metricsCount(dgUrl, dgCa, '/readyz').then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 100) throw new Error('driftguard did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    await kubectl(cp, ['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
    // The API server picks registrations up from an informer: wait until a PATCH reaches all three.
    for (let i = 0; ; i++) {
      await patches(cp.server, caApi, token, 1, 1, `probe-${i}`);
      const seen = await Promise.all(['/validate', '/observe/entry', '/observe/exit'].map((r) => metricsCount(dgUrl, dgCa, r)));
      if (seen.every((n) => n > 0)) break;
      if (i > 100) throw new Error('the webhook registrations did not take effect');
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await Promise.all(['/validate', '/observe/entry', '/observe/exit'].map((r) => metricsCount(dgUrl, dgCa, r)));
    await measure('three webhooks');
    const after = await Promise.all(['/validate', '/observe/entry', '/observe/exit'].map((r) => metricsCount(dgUrl, dgCa, r)));
    const writes = 2 * (PATCHES + WARMUP);
    const calls = after.map((n, i) => n - before[i]!);

    log();
    log('| case | p50 | p99 | mean |');
    log('| --- | --- | --- | --- |');
    for (const [label, t] of Object.entries(results))
      log(
        `| ${label} | ${percentile(t, 50).toFixed(2)} ms | ${percentile(t, 99).toFixed(2)} ms | ${(t.reduce((a, b) => a + b, 0) / t.length).toFixed(2)} ms |`,
      );
    log();
    for (const c of [1, 10]) {
      const none = results[`no webhooks c=${c}`]!;
      const three = results[`three webhooks c=${c}`]!;
      const floors = results[`three floor webhooks c=${c}`]!;
      const d50 = percentile(three, 50) - percentile(none, 50);
      const d99 = percentile(three, 99) - percentile(none, 99);
      log(
        `concurrency ${c}: +${d50.toFixed(2)} ms p50 (target ≤ +${TARGET.p50Ms}: ${d50 <= TARGET.p50Ms ? 'met' : 'MISSED'}), ` +
          `+${d99.toFixed(2)} ms p99 (target ≤ +${TARGET.p99Ms}: ${d99 <= TARGET.p99Ms ? 'met' : 'MISSED'}); ` +
          `the floor's three webhooks: +${(percentile(floors, 50) - percentile(none, 50)).toFixed(2)} ms p50, ` +
          `+${(percentile(floors, 99) - percentile(none, 99)).toFixed(2)} ms p99`,
      );
    }
    log(`webhook calls for ${writes} writes: validate ${calls[0]}, observe/entry ${calls[1]}, observe/exit ${calls[2]}`);
    if (calls.some((n) => n < writes)) throw new Error('some writes did not reach every webhook');
  } finally {
    dg?.kill('SIGTERM');
    floor?.kill('SIGTERM');
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`apiserver bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
