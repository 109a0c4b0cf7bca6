/**
 * The API server's audit log as a records source, on the real API server: it writes its audit log
 * (--audit-log-path, manifests/audit/audit-policy.yaml) and posts its audit batches to
 * `serve --audit-webhook` (test/e2e/cluster/controlplane.ts). A scripted day (Argo CD create, the
 * HPA through scale, a person's denied edit, break-glass, another mutating webhook stamping every
 * write, a DELETE and re-CREATE, 10 concurrent conflicting patches) explained from the audit log
 * alone gives the same answers as from the webhooks' records; then driftguard is stopped
 * (its validating webhook made to fail open, as the observers do) while a person writes: the audit
 * log still has the write, the webhooks' records do not, and explain over both says so.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  apiRequest,
  ARGOCD_USERNAME as ARGOCD,
  argocd as argocdAccount,
  argoSync,
  cluster,
  describeE2e,
  eventually,
  getJson,
  hpa as hpaAccount,
  HPA_USERNAME as HPA,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  putScale,
  serviceAccount,
  type Driftguard,
  type Identity,
  type Obj,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { cli, settled } from './support/records.js';
import { STAMP_ANNOTATION, startStampWebhook, type StampWebhook } from './support/webhook.js';

const NS = 'prod-audit-log';
const STAMP = { configuration: 'm-e2e-stamp-audit', webhook: 'stamp-audit.e2e.driftguard.io' };
const STAMP_PATH = `/metadata/annotations/${STAMP_ANNOTATION.replace('/', '~1')}`;
/** The annotation the concurrent patches all set. */
const LAST = 'e2e.driftguard.io/last';
const LAST_PATH = `/metadata/annotations/${LAST.replace('/', '~1')}`;
const CONCURRENT = 10;

/** One of the concurrent patches, as the API server answered it. */
interface Patch {
  username: string;
  value: string;
  /** It carried the resourceVersion read before (optimistic concurrency: a 409 if another was persisted first). */
  precondition: boolean;
  status: number;
  /** The version it created (200 only). */
  rv?: string;
}

/** explain's fields, as path -> [value, last writer, class] (what both sources must agree on). */
function answers(explainJson: string): Record<string, [unknown, string, string]> {
  const x = JSON.parse(explainJson);
  return Object.fromEntries(
    x.fields.map((f: Obj) => [
      f.path,
      [
        f.value,
        f.lastWriter.kind === 'webhook'
          ? `webhook ${JSON.stringify(f.lastWriter.webhooks ?? [])} requested by ${f.lastWriter.requestedBy.username}`
          : f.lastWriter.username,
        f.lastWriter.actorClass,
      ],
    ]),
  );
}

describeE2e('the audit log as a records source, on a real API server', () => {
  let dg: Driftguard;
  let argocd: Identity & { username: string };
  let hpa: Identity;
  let stamp: StampWebhook;
  let patches: Patch[];
  /** The patches persisted, in the order the API server persisted them. */
  let persisted: Patch[];
  let live: Obj;
  const dir = mkdtempSync(path.join(tmpdir(), 'dg-e2e-audit-'));
  const observerOnly = path.join(dir, 'observers.jsonl');
  const liveAudit = path.join(dir, 'live-audit.jsonl');
  /** Split the server's records file: the webhooks' own records and those the audit webhook made. */
  const split = (records: Obj[]): void => {
    const ours = records.filter((r) => r.source !== 'audit-log' && r.resource?.namespace === NS);
    const audited = records.filter((r) => r.source === 'audit-log' && r.resource?.namespace === NS);
    writeFileSync(observerOnly, ours.map((r) => JSON.stringify(r)).join('\n') + '\n');
    writeFileSync(liveAudit, audited.map((r) => JSON.stringify(r)).join('\n') + '\n');
  };
  let deniedStderr = '';

  beforeAll(async () => {
    const { audit } = cluster();
    ({ dg } = await installDriftguard({
      extraArgs: ['--audit-webhook', '--audit-webhook-port', String(audit.webhookPort), '--audit-webhook-token-file', audit.tokenFile],
    }));
    await namespace(NS);
    argocd = await argocdAccount();
    hpa = await hpaAccount();
    // Another mutating webhook, after driftguard's entry observer: it stamps an annotation on every write.
    stamp = await startStampWebhook(STAMP.configuration, STAMP.webhook);
    await stamp.register(NS);

    await argoSync(argocd, deployment(NS, 'web', { replicas: 2 }));
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 4)).toMatchObject({ code: 0 });
    const denied = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:6.6.6']);
    expect(denied.code).not.toBe(0);
    deniedStderr = denied.stderr;
    await kubectlOk('carol', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=debug']);
    // DELETE and re-CREATE by Argo CD, then the HPA and break-glass on the new object.
    await kubectlOk(argocd, ['delete', 'deployment/web', '-n', NS, '--wait=false']);
    await argoSync(argocd, deployment(NS, 'web', { replicas: 2, image: 'registry.example.com/shop/web:1.1.0' }));
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 5)).toMatchObject({ code: 0 });
    await kubectlOk('carol', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=warn']);
    // 10 patches of one annotation at once, by break-glass and Argo CD. Half carry the version read
    // before (409 Conflict if another was persisted first); the API server retries the others
    // inside its concurrency loop, calling every webhook again, until each is persisted.
    const rv = (await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.resourceVersion;
    const url = `/apis/apps/v1/namespaces/${NS}/deployments/web?fieldManager=e2e-writer`;
    patches = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i): Promise<Patch> => {
        const [as, username]: [Identity, string] = i % 2 === 0 ? ['carol', 'carol@example.com'] : [argocd, argocd.username];
        const value = `patch-${i}`;
        const precondition = i < CONCURRENT / 2;
        const r = await apiRequest(as, 'PATCH', url, {
          metadata: { annotations: { [LAST]: value }, ...(precondition ? { resourceVersion: rv } : {}) },
        });
        return { username, value, precondition, status: r.status, rv: r.status === 200 ? r.body.metadata.resourceVersion : undefined };
      }),
    );
    persisted = patches.filter((p) => p.status === 200).sort((a, b) => (BigInt(a.rv!) < BigInt(b.rv!) ? -1 : 1));
    live = await getJson('admin', ['deployment', 'web', '-n', NS]);
    // The live endpoint has every write of the day once the API server's batches came in.
    await eventually(
      `the audit batches of the day (records file ${dg.recordsFile})`,
      async () =>
        dg.records().filter((r) => r.source === 'audit-log' && r.resource?.namespace === NS).length >= 7 + persisted.length
          ? true
          : undefined,
      30_000,
    );
    await settled(dg);
  });
  afterAll(async () => {
    await stamp?.close();
    await dg?.stop();
  });

  it('explained from the audit log alone: the same answers as from the webhooks', async () => {
    split(dg.records());
    // The webhooks' records name no other webhook: explain asks the cluster (driftguard's service account).
    const sa = await serviceAccount('driftguard', 'driftguard');
    const fromObservers = await cli([
      'explain',
      'deploy/web',
      '-n',
      NS,
      observerOnly,
      '--kubeconfig',
      sa.kubeconfig,
      '--all',
      '-o',
      'json',
    ]);
    expect(fromObservers.code, fromObservers.stderr).toBe(0);
    // The audit log alone: no cluster to ask, no webhook record.
    const fromFile = await cli(['explain', 'deploy/web', '-n', NS, '--audit-log', cluster().audit.logFile, '--all', '-o', 'json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromLive = await cli(['explain', 'deploy/web', '-n', NS, liveAudit, '--all', '-o', 'json']);
    expect(fromLive.code, fromLive.stderr).toBe(0);

    const expected = answers(fromObservers.stdout);
    expect(expected['/spec/replicas']).toEqual([5, HPA, 'controller']);
    expect(expected['/spec/template/spec/containers[name=app]/env[name=LOG_LEVEL]/value']).toEqual(['warn', 'carol@example.com', 'person']);
    // The conflict: the value live is the last persisted patch's, and so is its writer.
    const last = persisted[persisted.length - 1]!;
    expect(live.metadata.annotations[LAST]).toBe(last.value);
    expect(expected[LAST_PATH]?.slice(0, 2)).toEqual([last.value, last.username]);
    // The stamp the last persisted write got is the webhook's, requested by that write's requester.
    expect(expected[STAMP_PATH]).toEqual([
      live.metadata.annotations[STAMP_ANNOTATION],
      `webhook ${JSON.stringify([STAMP])} requested by ${last.username}`,
      'webhook',
    ]);
    expect(answers(fromFile.stdout)).toEqual(expected);
    expect(answers(fromLive.stdout)).toEqual(expected);
    // The re-CREATE started a new object in both.
    expect(JSON.parse(fromFile.stdout).created).toMatchObject({ by: ARGOCD, actorClass: 'gitops' });
    // The denied edit is no change in the audit log (a 403 there).
    expect(deniedStderr).toContain('denied the request');
    expect(fromFile.stdout).not.toContain('6.6.6');
    // Both sources read together agree: every persisted write was seen.
    const both = await cli(['history', 'deploy/web', '-n', NS, observerOnly, '--audit-log', cluster().audit.logFile, '-o', 'json']);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stderr).not.toContain('no driftguard webhook saw');
  });

  it('driftguard stopped while a person writes: the audit log still attributes the write, the webhooks missed it, explain says so', async () => {
    // Fail open, as the observers do (an operator's choice for the validating webhook too).
    const validating = (await getJson('admin', ['validatingwebhookconfigurations'])).items.find((c: Obj) =>
      c.webhooks.some((w: Obj) => w.clientConfig?.url?.includes(`:${dg.port}/`)),
    );
    const patch = validating.webhooks.map((_: Obj, i: number) => ({
      op: 'replace',
      path: `/webhooks/${i}/failurePolicy`,
      value: 'Ignore',
    }));
    await kubectlOk('admin', [
      'patch',
      'validatingwebhookconfiguration',
      validating.metadata.name,
      '--type=json',
      '-p',
      JSON.stringify(patch),
    ]);
    await dg.stop();
    await kubectlOk('bob', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:9.9.9-while-down']);
    await dg.restart();
    // The API server's webhook backend sends the batch again once driftguard is back.
    await eventually(
      "the down window's write, from the audit batches sent again",
      async () => (dg.records().some((r) => r.source === 'audit-log' && r.actor?.username === 'bob@example.com') ? true : undefined),
      60_000,
    );
    await settled(dg);
    split(dg.records());
    const IMAGE = '/spec/template/spec/containers[name=app]/image';
    const observers = await cli(['explain', 'deploy/web', '-n', NS, observerOnly, '--field', IMAGE, '-o', 'json']);
    const fromObservers = JSON.parse(observers.stdout).fields.find((f: Obj) => f.path === IMAGE);
    expect(fromObservers?.value ?? null).not.toBe('registry.example.com/shop/web:9.9.9-while-down');
    const both = await cli([
      'explain',
      'deploy/web',
      '-n',
      NS,
      observerOnly,
      '--audit-log',
      cluster().audit.logFile,
      '--field',
      IMAGE,
      '-o',
      'json',
    ]);
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout).fields).toEqual([
      expect.objectContaining({
        path: IMAGE,
        value: 'registry.example.com/shop/web:9.9.9-while-down',
        lastWriter: expect.objectContaining({ username: 'bob@example.com' }),
      }),
    ]);
    expect(both.stderr).toMatch(/note: 1 persisted write\(s\) that no driftguard webhook saw/);
    expect(both.stderr).toContain('UPDATE by bob@example.com');
    const live = await cli(['explain', 'deploy/web', '-n', NS, liveAudit, '--field', IMAGE, '-o', 'json']);
    expect(JSON.parse(live.stdout).fields[0]).toMatchObject({ value: 'registry.example.com/shop/web:9.9.9-while-down' });
  });

  it('10 concurrent conflicting patches: from the audit log, the persisted ones are the writes, no 409 is, no digest needed', async () => {
    const log = cluster().audit.logFile;
    // Those without the precondition were all persisted; of those with it, at most the first.
    expect(patches.filter((p) => !p.precondition).map((p) => p.status)).toEqual(Array(CONCURRENT / 2).fill(200));
    const conditional = patches.filter((p) => p.precondition).map((p) => p.status);
    expect(conditional.filter((c) => c !== 409)).toEqual(conditional.filter((c) => c === 200));
    expect(conditional.filter((c) => c === 200).length).toBeLessThanOrEqual(1);
    // The audit log holds each 409, and history from it lists none of them.
    const events = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes(`"${NS}"`))
      .map((l) => JSON.parse(l) as Obj);
    const conflicts = events.filter((e) => e.verb === 'patch' && e.objectRef?.name === 'web' && e.responseStatus?.code === 409);
    expect(conflicts.length).toBe(patches.filter((p) => p.status === 409).length);
    const history = await cli(['history', 'deploy/web', '-n', NS, '--audit-log', log, '--reverse', '-o', 'json']);
    expect(history.code, history.stderr).toBe(0);
    const written = (JSON.parse(history.stdout).entries as Obj[]).flatMap((e) => {
      const c = (e.changes as Obj[]).find((x) => x.path === LAST_PATH);
      return c === undefined ? [] : [`${e.actor.username} ${c.new}`];
    });
    expect(written).toEqual(persisted.map((p) => `${p.username} ${p.value}`));

    // The webhooks admitted more tries than were persisted (retries inside the API server, tries
    // that met a 409 after admission). Their records without any content digest, read with the
    // audit log: every persisted write they saw is matched with a try, the other tries are left out
    // (the audit log covers the time after them: the previous test's writes), and the answers are
    // the audit log's.
    const noDigests = path.join(dir, 'observers-no-digests.jsonl');
    const stripped = readFileSync(observerOnly, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const { objectDigest: _d, oldObjectDigest: _o, ...rest } = JSON.parse(l) as Obj;
        return rest;
      });
    writeFileSync(noDigests, stripped.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const tries = stripped.filter((r) => r.type === 'change' && r.stage === 'final' && r.resource?.name === 'web').length;
    const [both, alone] = await Promise.all([
      cli(['explain', 'deploy/web', '-n', NS, noDigests, '--audit-log', log, '--all', '-o', 'json']),
      cli(['explain', 'deploy/web', '-n', NS, '--audit-log', log, '--all', '-o', 'json']),
    ]);
    expect(both.code, both.stderr).toBe(0);
    const merged = JSON.parse(both.stdout);
    expect(answers(both.stdout)).toEqual(answers(alone.stdout));
    const disagreements = merged.stats.audit.disagreements as Obj[];
    // The one write no webhook saw is the previous test's, made while driftguard was down.
    const unobserved = disagreements.filter((d) => d.kind === 'unobserved');
    expect(unobserved.map((d) => d.username)).toEqual(['bob@example.com']);
    const matched = merged.stats.audit.writes - unobserved.length;
    expect(tries).toBeGreaterThan(matched);
    expect(disagreements.filter((d) => d.kind === 'not-persisted').length).toBe(tries - matched);
    console.log(
      `audit-log conflicts: ${CONCURRENT} patches, ${persisted.length} persisted, ${conflicts.length} answered 409, ` +
        `${tries} admitted tries of the day for ${matched} persisted writes the webhooks saw`,
    );
  });
});
