/**
 * `npm run bench:reports`: the report loop (src/reports/loop.ts) with many covered objects that
 * have findings, on the e2e control plane with the published OpenReports CRDs.
 *
 * BENCH_REPORT_OBJECTS ConfigMaps (default 5000) are created for real (reports are owned by them:
 * a report whose owner does not exist is deleted by the garbage collector). Each gets the records
 * of a break-glass change and BENCH_REPORT_DENIALS denied attempts (default 8) under
 * BENCH_REPORT_POLICIES policies (default 60, above the 50 results a report keeps), handed to the
 * loop's store as the record sink would. The loop runs with maxReports BENCH_REPORT_MAX (default 90%
 * of the objects, so the bound on reports is reached) and its default pace (10 writes/s). Prints
 * how long the reports took, the write rate the API server saw (reports written / elapsed) against
 * the limit, the largest report (results, bytes), and the trimmed counts. Exits 1 when a bound or
 * the rate is exceeded. Skipped (exit 0) when the control plane cannot be built.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { kubectlAs, startControlPlane, type ControlPlane } from '../e2e/cluster/controlplane.js';
import { KubeClient } from '../../src/cluster/kube.js';
import { loadPolicies } from '../../src/policy/load.js';
import { DEFAULT_WRITES_PER_SECOND, ReportLoop } from '../../src/reports/loop.js';
import { DEFAULT_REPORT_LIMITS } from '../../src/reports/compute.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const OBJECTS = Number(process.env.BENCH_REPORT_OBJECTS ?? 5000);
const DENIALS = Number(process.env.BENCH_REPORT_DENIALS ?? 8);
const POLICIES = Number(process.env.BENCH_REPORT_POLICIES ?? 60);
const MAX_REPORTS = Number(process.env.BENCH_REPORT_MAX ?? Math.floor(OBJECTS * 0.9));
const NS = 'prod-bench-reports';
const log = (line = ''): void => void process.stdout.write(`${line}\n`);

type Obj = Record<string, any>;

async function kubectl(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  return (await kubectlAs(cp, 'admin', args, input)).stdout;
}

function policyFile(dir: string): string {
  const docs = Array.from({ length: POLICIES }, (_, i) =>
    [
      'apiVersion: driftguard.io/v1alpha1',
      'kind: DriftPolicy',
      `metadata: {name: bench-${String(i).padStart(3, '0')}}`,
      'spec:',
      '  severity: medium',
      '  match: {resources: [{apiGroups: [""], kinds: [ConfigMap]}], namespaces: ["prod-*"]}',
      '  allow: [{preset: argocd}]',
      '  breakGlass: [{actors: [{group: breakglass}], expires: "2099-01-01T00:00:00Z", reason: BENCH-1}]',
    ].join('\n'),
  );
  const file = path.join(dir, 'policies.yaml');
  writeFileSync(file, `${docs.join('\n---\n')}\n`);
  return file;
}

/** The records one object's findings leave: per policy a break-glass change, then denied attempts. */
function recordsFor(name: string, uid: string, t0: number): Obj[] {
  const resource = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: NS, name };
  const person = { username: 'carol@example.com', groups: ['breakglass'] };
  const out: Obj[] = [];
  let n = 0;
  const time = () => new Date(t0 + n++ * 1000).toISOString();
  for (let p = 0; p < POLICIES; p++) {
    const policy = `bench-${String(p).padStart(3, '0')}`;
    const uidOf = `${name}-${p}`;
    const change = { path: `/data/k${p}`, op: 'replace', old: 'git', new: 'hotfix' };
    const t = time();
    out.push({
      schema: 'driftguard.io/v2',
      type: 'violation',
      time: t,
      decision: 'break-glass',
      allowed: true,
      mode: 'enforce',
      policy,
      reason: `driftguard: break-glass (${policy}) by carol@example.com: BENCH-1`,
      breakGlass: { reason: 'BENCH-1', expires: '2099-01-01T00:00:00Z' },
      actor: person,
      actorClass: 'person',
      operation: 'UPDATE',
      resource,
      changes: [change],
      uid: uidOf,
    });
    out.push({
      schema: 'driftguard.io/v2',
      type: 'change',
      stage: 'final',
      correlation: uidOf,
      time: t,
      actor: person,
      actorClass: 'person',
      operation: 'UPDATE',
      resource,
      changes: [change],
      uid: uidOf,
      objectUid: uid,
    });
  }
  for (let d = 0; d < DENIALS; d++)
    out.push({
      schema: 'driftguard.io/v2',
      type: 'violation',
      time: time(),
      decision: 'denied',
      allowed: false,
      mode: 'enforce',
      policy: 'bench-000',
      reason: 'driftguard: policy bench-000: denied',
      actor: { username: 'alice@example.com', groups: [] },
      actorClass: 'person',
      operation: 'UPDATE',
      resource,
      changes: [{ path: '/data/k0', op: 'replace', old: 'git', new: `try-${d}` }],
      uid: `${name}-denied-${d}`,
    });
  return out;
}

async function main(): Promise<void> {
  const built = spawnSync('bash', [path.join(REPO, 'scripts/e2e-cluster.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status === 3) return log('reports bench: SKIPPED, no Go toolchain to build the control plane');
  if (built.status !== 0) throw new Error(`scripts/e2e-cluster.sh failed (${built.status})`);
  const binDir = built.stdout.trim().split('\n').pop()!;
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-bench-reports-'));
  const cp = await startControlPlane({ binDir, dir: path.join(dir, 'cluster') });
  const registry = new Registry();
  let loop: ReportLoop | undefined;
  let failed = false;
  try {
    for (const f of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml'])
      await kubectl(cp, ['apply', '--server-side', '-f', path.join(binDir, 'crds', 'reports', f)]);
    await kubectl(cp, ['wait', '--for=condition=Established', 'crd/reports.openreports.io', '--timeout=60s']);
    await kubectl(cp, ['create', 'namespace', NS]);
    await kubectl(cp, ['create', 'namespace', 'driftguard']);
    log(`reports bench: creating ${OBJECTS} ConfigMaps`);
    for (let i = 0; i < OBJECTS; i += 500) {
      const items = Array.from({ length: Math.min(500, OBJECTS - i) }, (_, j) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i + j}`, namespace: NS },
        data: { k0: 'git' },
      }));
      await kubectl(cp, ['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    }
    const list = JSON.parse(await kubectl(cp, ['get', 'configmaps', '-n', NS, '-o', 'json'])) as Obj;
    const uids = new Map<string, string>((list.items as Obj[]).map((o) => [o.metadata.name as string, o.metadata.uid as string]));

    const client = KubeClient.load(cp.kubeconfigs.admin, { timeoutMs: 10_000 });
    const policies = await loadPolicies([policyFile(dir)]);
    loop = new ReportLoop(
      { format: 'openreports', leaseNamespace: 'driftguard', identity: 'bench', maxReports: MAX_REPORTS, crdCheckMs: 1_000 },
      { client, logger: pino({ level: 'warn' }), clock: () => new Date(), registry, policies: () => policies },
    );
    const t0 = Date.parse('2026-12-01T10:00:00Z');
    for (const [name, uid] of uids) for (const r of recordsFor(name, uid, t0)) loop.store.add(r);
    const started = Date.now();
    loop.start();
    const metric = async (name: string, label = ''): Promise<number> => {
      const m = await registry.getSingleMetric(name)?.get();
      return (m?.values ?? []).filter((v) => label === '' || Object.values(v.labels).includes(label)).reduce((a, v) => a + v.value, 0);
    };
    const expected = Math.min(MAX_REPORTS, OBJECTS);
    let lastLog = 0;
    for (;;) {
      const written = await metric('driftguard_reports_written_total');
      const trimmedReports = await metric('driftguard_reports_trimmed_total', 'reports');
      if (written >= expected && trimmedReports >= OBJECTS - expected) break;
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        log(`  ${written} written, ${trimmedReports} over the bound, queue ${await metric('driftguard_reports_queue_depth')}`);
      }
      if (Date.now() - started > (expected / DEFAULT_WRITES_PER_SECOND) * 1000 * 3 + 120_000)
        throw new Error('reports bench: the loop did not finish');
      await new Promise((r) => setTimeout(r, 500));
    }
    const elapsed = (Date.now() - started) / 1000;
    const reports = JSON.parse(await kubectl(cp, ['get', 'reports', '-n', NS, '-o', 'json'])) as Obj;
    const items = reports.items as Obj[];
    const maxResults = Math.max(...items.map((r) => (r.results as Obj[]).length));
    const maxBytes = Math.max(...items.map((r) => JSON.stringify(r).length));
    const rate = items.length / elapsed;
    log(`reports bench: ${OBJECTS} objects with findings under ${POLICIES} policies, ${DENIALS} denials each`);
    log(
      `  reports in the cluster: ${items.length} (bound ${MAX_REPORTS}); over the bound: ${await metric('driftguard_reports_trimmed_total', 'reports')}`,
    );
    log(
      `  results per report at most: ${maxResults} (bound ${DEFAULT_REPORT_LIMITS.maxResults}); trimmed results: ${await metric('driftguard_reports_trimmed_total', 'results')}`,
    );
    log(`  largest report: ${maxBytes} bytes of JSON`);
    log(`  ${items.length} reports in ${elapsed.toFixed(1)} s: ${rate.toFixed(2)} writes/s (limit ${DEFAULT_WRITES_PER_SECOND}/s)`);
    log(`  write failures: ${await metric('driftguard_report_write_failures_total')}`);
    if (items.length > MAX_REPORTS || maxResults > DEFAULT_REPORT_LIMITS.maxResults || rate > DEFAULT_WRITES_PER_SECOND * 1.05)
      failed = true;
  } finally {
    await loop?.close(1_000);
    await cp.stop();
  }
  if (failed) {
    log('reports bench: a bound or the write rate was exceeded');
    process.exitCode = 1;
  }
}

await main();
