/**
 * Another mutating webhook in the cluster, registered so that it sorts after driftguard's entry
 * observer (mutating configurations run in name order): the field it sets is a WEBHOOK
 * field for `explain`, named with `--kubeconfig`, and the requester's own fields stay theirs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd,
  argoSync,
  describeE2e,
  driftguardCli,
  eventually,
  getJson,
  installDriftguard,
  kubectlOk,
  namespace,
  serviceAccount,
  type Obj,
  type Session,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { STAMP_ANNOTATION, startStampWebhook, type StampWebhook } from './support/webhook.js';

const NS = 'audit-webhook';
const STAMP_PATH = `/metadata/annotations/${STAMP_ANNOTATION.replace('/', '~1')}`;
const ENV_PATH = '/spec/template/spec/containers/0/env/0/value';
/** How explain names that field: by the list items' keys (docs/keyed-paths.md). */
const ENV_KEYED = '/spec/template/spec/containers[name=app]/env[name=LOG_LEVEL]/value';

describeE2e('a mutating webhook after the entry observer', () => {
  let s: Session;
  let stamp: StampWebhook;
  let mutatingOrder: string[];

  beforeAll(async () => {
    s = await installDriftguard();
    await namespace(NS);
    stamp = await startStampWebhook('m-e2e-stamp', 'stamp.e2e.driftguard.io');
    await stamp.register(NS);
    mutatingOrder = (await getJson('admin', ['mutatingwebhookconfigurations'])).items.map((i: Obj) => i.metadata.name).sort();
    await argoSync(await argocd(), deployment(NS, 'web'));
    await kubectlOk('alice', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=debug']);
    // Change records are written in batches off the request path: wait for the final of alice's write.
    await eventually('the final record of the edit', async () =>
      s.dg.records().find((r) => r.type === 'change' && r.stage === 'final' && r.actor.username === 'alice@example.com'),
    );
  });
  afterAll(async () => {
    await stamp?.close();
    await s?.dg.stop();
  });

  it('runs after the entry observer and before the validating call, and its patch is persisted', async () => {
    expect(mutatingOrder.indexOf('0-driftguard-observe-entry')).toBeLessThan(mutatingOrder.indexOf('m-e2e-stamp'));
    const live = await getJson('admin', ['deployment', 'web', '-n', NS]);
    const value = live.metadata.annotations[STAMP_ANNOTATION];
    expect(value).toMatch(/^stamp-\d+$/);
    // The validating call saw the stamp, the entry observer did not: that is how it is attributed.
    const records = s.dg
      .records()
      .filter((r) => r.type === 'change' && r.resource.namespace === NS && r.actor.username === 'alice@example.com');
    expect(records.map((r) => r.stage)).toEqual(['entry', 'final']);
    const entry = records.find((r) => r.stage === 'entry')!;
    const final = records.find((r) => r.stage === 'final')!;
    expect(entry.changes.map((c: Obj) => c.path)).toEqual([ENV_PATH]);
    expect(final.changes.map((c: Obj) => c.path).sort()).toEqual([STAMP_PATH, ENV_PATH].sort());
    expect(final.changes.find((c: Obj) => c.path === STAMP_PATH).new).toBe(value);
  });

  it("explain calls the stamped field WEBHOOK and keeps the person's field as DRIFT", async () => {
    const out = await driftguardCli(['explain', 'deploy/web', '-n', NS, s.dg.recordsFile, '--field', STAMP_PATH, ENV_PATH]);
    const lines = out.trim().split('\n');
    const row = (p: string) => lines.find((l) => l.startsWith(`${p} `))!;
    expect(row(STAMP_PATH)).toMatch(/mutating webhook \(unknown\)\s+webhook\s+kubectl-set\s.*WEBHOOK \(requested by alice@example\.com\)$/);
    expect(row(ENV_KEYED)).toMatch(/debug\s+alice@example\.com\s+person\s+kubectl-set\s.*DRIFT$/);
  });

  it("with --kubeconfig (driftguard's own service account and RBAC) names the webhook", async () => {
    const sa = await serviceAccount('driftguard', 'driftguard');
    const table = await driftguardCli([
      'explain',
      'deploy/web',
      '-n',
      NS,
      s.dg.recordsFile,
      '--kubeconfig',
      sa.kubeconfig,
      '--field',
      STAMP_PATH,
    ]);
    // configuration/webhook, and the requester beside it: the same as the JSON below.
    expect(table).toMatch(
      /mutating webhook m-e2e-stamp\/stamp\.e2e\.driftguard\.io\s+webhook\s+kubectl-set\s.*WEBHOOK \(requested by alice@example\.com\)$/m,
    );
    const json = JSON.parse(
      await driftguardCli(['explain', 'deploy/web', '-n', NS, s.dg.recordsFile, '--kubeconfig', sa.kubeconfig, '-o', 'json', '--all']),
    );
    const field = (json.fields as Obj[]).find((f) => f.path === STAMP_PATH)!;
    // Only the stamp webhook matches: driftguard's observers are never candidates.
    // The writer is the webhook; alice's request is beside it as requestedBy, not as the writer.
    expect(field.lastWriter).toEqual({
      kind: 'webhook',
      actorClass: 'webhook',
      webhooks: [{ configuration: 'm-e2e-stamp', webhook: 'stamp.e2e.driftguard.io' }],
      time: expect.any(String),
      operation: 'UPDATE',
      requestedBy: { username: 'alice@example.com', actorClass: 'person', fieldManager: 'kubectl-set' },
    });
    // The CREATE by Argo CD was stamped too: that write's stamp is a webhook's, not Argo CD's.
    const history = JSON.parse(await driftguardCli(['history', 'deploy/web', '-n', NS, s.dg.recordsFile, '--reverse', '-o', 'json']));
    const create = (history.entries as Obj[]).find((e) => e.operation === 'CREATE')!;
    expect(create.changes.find((c: Obj) => c.path === STAMP_PATH)?.by).toBe('webhook');
  });
});
