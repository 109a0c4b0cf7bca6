/**
 * serve --reports wgpolicy with 5,000 covered objects that have findings, on the suite's real API
 * server with the wg-policy CRDs (wgpolicyk8s.io/v1alpha2, as scripts/e2e-cluster.sh caches them):
 * 5,000 ConfigMaps are created (before driftguard covers their namespace, so the creates cost the
 * API server alone), then a person edits each, which four warn-mode policies let through with a
 * warning: each object has four findings.
 * The bounds are set low enough to be reached in seconds (`--reports-max 100`,
 * `--reports-max-results 3`) and the pace is the default (10 writes/s). What is checked is what the
 * API server holds and counts: the PolicyReports in the namespace (no more than the bound, each with
 * the results the bound keeps, as the CRD's schema stored them) and the report writes its own
 * apiserver_request_total counted, sampled from its /metrics while the loop ran.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiRequest, cluster, describeE2e, eventually, getJson, kubectlOk, namespace } from './support/cluster.js';
import { installDriftguard } from './support/harness.js';
import type { Driftguard, Obj } from './support/driftguard.js';
import { REPO } from '../support/fixtures.js';

const NS = 'reports-scale';
const OBJECTS = 5_000;
const MAX_REPORTS = 100;
const MAX_RESULTS = 3;
/** The documented default (docs/reports.md): the test leaves it as shipped. */
const WRITES_PER_SECOND = 10;
const POLICIES = path.join(REPO, 'test/e2e/fixtures/report-scale-policies');
const CRDS = ['wgpolicyk8s.io_policyreports.yaml', 'wgpolicyk8s.io_clusterpolicyreports.yaml'];

/** The API server's count of report applies (server-side apply is verb APPLY), any response code. */
function appliesCounted(metrics: string): number {
  let n = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    if (line.includes('resource="policyreports"') && line.includes('verb="APPLY"')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

async function apiServerApplies(): Promise<number> {
  const res = await apiRequest('admin', 'GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  return appliesCounted(String(res.body));
}

const metric = (text: string, name: string): number => {
  const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
};

/** One request per name, 24 in flight; throws unless every one succeeded. */
async function writeAll(names: readonly string[], write: (name: string) => Promise<{ status: number }>): Promise<void> {
  let next = 0;
  const refused: string[] = [];
  await Promise.all(
    Array.from({ length: 24 }, async () => {
      while (next < names.length) {
        const name = names[next++]!;
        const res = await write(name);
        if (res.status !== 200 && res.status !== 201) refused.push(`${name}: HTTP ${res.status}`);
      }
    }),
  );
  if (refused.length > 0) throw new Error(`${refused.length} writes refused: ${refused.slice(0, 3).join('; ')}`);
}

describeE2e('serve --reports wgpolicy: 5,000 covered objects with findings on a real API server', () => {
  let dg: Driftguard;
  const samples: { t: number; applies: number }[] = [];
  let createMs = 0;
  let editMs = 0;
  let settledMs = 0;

  beforeAll(async () => {
    const dir = path.join(cluster().binDir, 'crds', 'reports');
    for (const f of CRDS) await kubectlOk('admin', ['apply', '--server-side', '-f', path.join(dir, f)]);
    await kubectlOk('admin', ['wait', '--for=condition=Established', 'crd/policyreports.wgpolicyk8s.io', '--timeout=30s']);
    // The objects first, before driftguard's webhooks cover the namespace: no policy of the suite's
    // other files covers it, so these creates reach no webhook and cost the API server alone.
    await namespace(NS);
    const names = Array.from({ length: OBJECTS }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
    const t0 = Date.now();
    await writeAll(names, (name) =>
      apiRequest('admin', 'POST', `/api/v1/namespaces/${NS}/configmaps`, { metadata: { name }, data: { k: 'git' } }, 'application/json'),
    );
    createMs = Date.now() - t0;
    ({ dg } = await installDriftguard({
      policies: POLICIES,
      extraArgs: [
        '--reports',
        'wgpolicy',
        '--reports-max',
        String(MAX_REPORTS),
        '--reports-max-results',
        String(MAX_RESULTS),
        '--no-events',
      ],
    }));
    await eventually('the report writer to lead', async () =>
      metric(await dg.metrics(), 'driftguard_reports_leader') === 1 ? true : undefined,
    );

    // The API server's counter, sampled while the ConfigMaps are edited and the loop writes.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ t: Date.now(), applies: await apiServerApplies() });
        await new Promise((r) => setTimeout(r, 250));
      }
      samples.push({ t: Date.now(), applies: await apiServerApplies() });
    })();
    // A person's edit of each: admitted with four warnings (warn mode), four findings on /data/k.
    const t1 = Date.now();
    await writeAll(names, (name) => apiRequest('alice', 'PATCH', `/api/v1/namespaces/${NS}/configmaps/${name}`, { data: { k: 'edited' } }));
    editMs = Date.now() - t1;
    // Done when every object was looked at: the bound's refusals and the reports written add up.
    await eventually(
      'the loop to look at every object',
      async () => {
        const m = await dg.metrics();
        const written = metric(m, 'driftguard_reports_written_total{kind="PolicyReport"}');
        const refusedReports = metric(m, 'driftguard_reports_trimmed_total{what="reports"}');
        return written >= MAX_REPORTS && refusedReports >= OBJECTS - MAX_REPORTS && metric(m, 'driftguard_reports_queue_depth') === 0
          ? true
          : undefined;
      },
      60_000,
    );
    settledMs = Date.now() - t1;
    sampling = false;
    await sampler;
  });
  afterAll(async () => {
    await dg?.stop();
    // 5,000 ConfigMaps and their reports (the garbage collector follows the owner references).
    await kubectlOk('admin', ['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
  });

  it('the reports stay within their bounds: 100 in all, 3 results each, trimmed counted and logged', async () => {
    const list = await getJson('admin', ['policyreports.wgpolicyk8s.io', '-n', NS]);
    const reports = list.items as Obj[];
    expect(reports).toHaveLength(MAX_REPORTS);
    for (const r of reports) {
      expect(r.results).toHaveLength(MAX_RESULTS);
      expect(r.summary).toEqual({ pass: 0, fail: 0, warn: MAX_RESULTS, error: 0, skip: 0 });
    }
    const m = await dg.metrics();
    expect(metric(m, 'driftguard_reports_trimmed_total{what="results"}')).toBeGreaterThanOrEqual(MAX_REPORTS);
    expect(metric(m, 'driftguard_reports_trimmed_total{what="reports"}')).toBeGreaterThanOrEqual(OBJECTS - MAX_REPORTS);
    expect(metric(m, 'driftguard_report_write_failures_total{kind="PolicyReport"}')).toBe(0);
    expect(dg.stderr()).toContain('report results trimmed to their bound');
    // The bound's log line: once a minute at most.
    const boundLines = dg.stderr().match(/report bound reached/g) ?? [];
    expect(boundLines.length).toBeGreaterThanOrEqual(1);
    expect(boundLines.length).toBeLessThanOrEqual(1 + Math.floor(settledMs / 60_000));
  });

  it('the API server counted the report writes at no more than 10 per second', () => {
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const applies = last.applies - first.applies;
    // One apply per report: nothing failed, so nothing was retried.
    expect(applies).toBe(MAX_REPORTS);
    // The span from the sample before the first write to the sample after the last one.
    const start = samples.findLast((s) => s.applies === first.applies)!;
    const end = samples.find((s) => s.applies === last.applies)!;
    const seconds = (end.t - start.t) / 1000;
    expect(applies / seconds).toBeLessThanOrEqual(WRITES_PER_SECOND);
    // Any window of two seconds or more: the pace is one write every 100 ms, so a window of W
    // seconds holds at most 10 W + 1 writes (one more for the samples' own jitter).
    let worst = 0;
    for (let i = 0; i < samples.length; i++) {
      const j = samples.findIndex((s) => s.t - samples[i]!.t >= 2_000);
      if (j < 0) break;
      const w = (samples[j]!.t - samples[i]!.t) / 1000;
      worst = Math.max(worst, samples[j]!.applies - samples[i]!.applies - WRITES_PER_SECOND * w);
    }
    expect(worst).toBeLessThanOrEqual(2);
    console.info(
      `reports-scale: ${OBJECTS} ConfigMaps created in ${createMs} ms, edited in ${editMs} ms; every object looked at ${settledMs} ms after the first edit; ` +
        `${applies} report applies counted by the API server over ${seconds.toFixed(1)} s = ${(applies / seconds).toFixed(2)}/s`,
    );
  });

  it('wg-policy output: the API server stored the PolicyReport with the results driftguard wrote', async () => {
    const cm = await getJson('admin', ['configmap', 'cm-0000', '-n', NS]);
    const uid = cm.metadata.uid as string;
    const r = await eventually('the first ConfigMap report', async () => {
      const got = await apiRequest('admin', 'GET', `/apis/wgpolicyk8s.io/v1alpha2/namespaces/${NS}/policyreports/driftguard-${uid}`);
      return got.status === 200 ? (got.body as Obj) : undefined;
    });
    expect(r.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'driftguard' });
    expect(r.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm-0000', uid }]);
    expect(r.scope).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'cm-0000', uid });
    // Four policies found something; the bound keeps three, warn first then by name.
    expect(r.results.map((x: Obj) => [x.policy, x.result, x.severity])).toEqual([
      ['scale-warn-1', 'warn', 'high'],
      ['scale-warn-2', 'warn', 'medium'],
      ['scale-warn-3', 'warn', 'low'],
    ]);
    for (const x of r.results as Obj[]) {
      expect(x).toMatchObject({ source: 'driftguard', category: 'GitOps drift' });
      expect(x.message).toBe(`driftguard: ${x.policy} (warn): drift by alice@example.com: /data/k`);
      expect(x.properties.fields).toBe('/data/k');
      expect(x.properties['/data/k']).toMatch(/^set by alice@example\.com at \S+; in drift since \S+$/);
      expect(x.timestamp.seconds).toBeGreaterThan(0);
    }
  });
});
