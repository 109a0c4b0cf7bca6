/**
 * serve --reports with the records store (--store, a real PostgreSQL from test/support/postgres.ts)
 * on the suite's real API server: two replicas ship every record to one store; when the leader is
 * killed, the new leader loads the object's records from the store before it writes its report, so
 * it knows what only the old leader saw. To show that the store, not the report the old leader left
 * in the cluster, is what it learned from, that report is deleted before the kill: without the store
 * the new leader would know only its own denial and write pass.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pgClient from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  applyObjects,
  cluster,
  describeE2e,
  eventually,
  getJson,
  kubectl,
  kubectlOk,
  namespace,
  serviceAccount,
  steady,
} from './support/cluster.js';
import { startDriftguard, webhooksForPolicies, type Driftguard, type Obj } from './support/driftguard.js';
import { installDriftguard, waitForWebhooks } from './support/harness.js';
import { deployment } from './support/objects.js';
import { REPO } from '../support/fixtures.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

const NS = 'prod-reports-store';
const POLICIES = path.join(REPO, 'test/e2e/policies');
const IMAGE_BY_KEY = '/spec/template/spec/containers[name=app]/image';

describeE2e('serve --reports --store: a new leader learns the old leader findings from the records store', () => {
  let pg: PostgresServer;
  let first: Driftguard;
  let second: Driftguard | undefined;
  let uid: string;
  let certDir: string;
  const report = async (): Promise<Obj | undefined> => {
    const r = await kubectl('admin', ['get', 'reports.openreports.io', `driftguard-${uid}`, '-n', NS, '-o', 'json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as Obj) : undefined;
  };
  const leader = async (d: Driftguard) => /^driftguard_reports_leader (\d)$/m.exec(await d.metrics())?.[1];
  let url: string;
  /** The records in the store's database (a connection of its own each time). */
  const rows = async () => {
    const c = new pgClient.Client({ connectionString: url });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM driftguard_records')).rows[0]!.n);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    pg = await startPostgres();
    url = await pg.createDatabase('reports');
    const dir = path.join(cluster().binDir, 'crds', 'reports');
    for (const f of ['openreports.io_reports.yaml', 'openreports.io_clusterreports.yaml'])
      await kubectlOk('admin', ['apply', '--server-side', '-f', path.join(dir, f)]);
    await kubectlOk('admin', ['wait', '--for=condition=Established', 'crd/reports.openreports.io', '--timeout=30s']);
    const spools = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-spool-'));
    const store = (n: string) => ['--reports', 'openreports', '--store', url, '--store-spool', path.join(spools, `spool-${n}`)];
    const session = await installDriftguard({ extraArgs: [...store('1'), '--store-migrate'] });
    first = session.dg;
    certDir = session.certDir;
    second = await startDriftguard({ policies: POLICIES, certDir, extraArgs: store('2') });
    await namespace(NS);
    const argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    await kubectlOk(argocd, ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(deployment(NS, 'web', { replicas: 2, image: 'registry.example.com/shop/web:1.0.0' })),
    });
    uid = (await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.uid as string;
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    await kubectl('admin', ['delete', 'namespace', NS, '--wait=false']);
    await pg?.stop();
  });

  it('the old leader saw a break-glass change and a denial; the new leader, a denial: after the kill the report says all three', async () => {
    await eventually('the first replica to lead', async () => ((await leader(first)) === '1' ? true : undefined));
    expect(await leader(second!)).toBe('0');
    expect((await kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=9'])).code).toBe(1);
    const glass = await kubectl('carol', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:1.0.1-hotfix']);
    expect(glass.code, glass.stderr).toBe(0);
    await eventually('the old leader to report warn', async () => ((await report())?.summary?.warn === 1 ? true : undefined), 5_000);

    // The API server calls the second replica from now on.
    await applyObjects('admin', await webhooksForPolicies(POLICIES, certDir, second!.port));
    await waitForWebhooks(second!);
    expect((await kubectl('alice', ['label', 'deployment/web', '-n', NS, 'x=1'])).stderr).toContain('denied the request');
    // Both replicas' records in the store (shipped off the answer's path, within a batch interval).
    expect(await steady('the records shipped', rows, 500, 5_000)).toBeGreaterThan(0);

    await kubectlOk('admin', ['delete', 'reports.openreports.io', `driftguard-${uid}`, '-n', NS]);
    first.child().kill('SIGKILL');
    await eventually('the second replica to lead', async () => ((await leader(second!)) === '1' ? true : undefined), 20_000);
    const r = await eventually('the new leader report', async () => report(), 5_000);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({
      policy: 'argocd-prod',
      result: 'warn',
      // What carol was told lived in the old leader's memory only: the record's own reason stands in.
      message: 'break-glass: E2E-1 hotfix while Git is frozen',
    });
    expect(r.results[0].properties).toMatchObject({ fields: IMAGE_BY_KEY, breakGlassBy: 'carol@example.com', deniedAttempts: '2' });
    expect(r.results[0].properties['denied.1']).toMatch(/alice@example\.com: \/metadata\/labels\/x$/);
    expect(r.results[0].properties['denied.2']).toMatch(/alice@example\.com: \/spec\/replicas$/);
    expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
  });
});
