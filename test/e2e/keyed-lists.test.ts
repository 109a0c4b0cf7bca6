/**
 * List items by key, with the requests a real kube-apiserver sends: a person's JSON patch inserts an
 * env var first; explain (from the records driftguard wrote for those reviews) names the person for
 * that var only and keeps Argo CD as the writer of the others; Argo CD applying the same env in
 * another order changes nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO } from '../support/fixtures.js';
import {
  argocd as argocdAccount,
  argoSync,
  describeE2e,
  driftguardCli,
  eventually,
  installDriftguard,
  kubectl,
  namespace,
  type Driftguard,
  type ServiceAccount,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { settled } from './support/records.js';

const NS = 'prod-keyed';
const APP = '/spec/template/spec/containers[name=app]';

describeE2e('keyed lists, judged on reviews from a real API server', () => {
  let dg: Driftguard;
  let argocd: ServiceAccount;
  const manifest = deployment(NS, 'web', { env: { LOG_LEVEL: 'info', TIMEOUT_MS: '2500' } });
  const explain = async (...args: string[]) =>
    JSON.parse(await driftguardCli(['explain', 'deploy/web', '-n', NS, dg.recordsFile, '-o', 'json', ...args])) as { fields: any[] };

  beforeAll(async () => {
    // The base's registration sends prod-* Deployments, which the keyed policies are about; the
    // one generated for them would send no ConfigMap for waitForWebhooks to probe with.
    ({ dg } = await installDriftguard({ policies: path.join(REPO, 'test/e2e/fixtures/keyed-policies'), registration: 'shipped' }));
    await namespace(NS);
    argocd = await argocdAccount();
    await argoSync(argocd, manifest);
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('a person inserting an env var first is named for that var only', async () => {
    const patched = await kubectl('alice', [
      'patch',
      'deployment/web',
      '-n',
      NS,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/0/env/0', value: { name: 'FEATURE_X', value: 'on' } }]),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.stderr).toContain('keyed-warn'); // the warning reached kubectl
    // driftguard appends records off the request path: wait for the final of that write.
    const final = await eventually('the final change record of the patch', async () =>
      dg.records().find((r) => r.type === 'change' && r.stage === 'final' && r.actor.username === 'alice@example.com'),
    );
    expect(final.changes.map((c: any) => c.keyed ?? c.path)).toEqual([
      `${APP}/env[name=FEATURE_X]/name`,
      `${APP}/env[name=FEATURE_X]/value`,
    ]);

    const fields = new Map((await explain()).fields.map((f) => [f.path, f]));
    expect(fields.get(`${APP}/env[name=FEATURE_X]/value`)).toMatchObject({
      value: 'on',
      drift: true,
      lastWriter: { username: 'alice@example.com', actorClass: 'person' },
    });
    const all = new Map((await explain('--all')).fields.map((f) => [f.path, f]));
    for (const name of ['LOG_LEVEL', 'TIMEOUT_MS']) {
      expect(all.get(`${APP}/env[name=${name}]/value`), name).toMatchObject({
        drift: false,
        lastWriter: { username: argocd.username, actorClass: 'gitops' },
      });
    }
  });

  it('Argo CD applying the same items in another order changes nothing', async () => {
    const finalsOf = (records: any[]) => records.filter((r) => r.type === 'change' && r.stage === 'final');
    const entriesOf = (records: any[]) => records.filter((r) => r.type === 'change' && r.stage === 'entry');
    const settledBefore = await settled(dg);
    const before = finalsOf(settledBefore).length;
    const entriesBefore = entriesOf(settledBefore).length;
    const drifted = async () => (await explain()).fields.filter((f) => f.drift).map((f) => f.path);
    // Whatever drift is there already (a person's var, when the test above ran first) stays as it is.
    const driftBefore = await drifted();
    const reordered = structuredClone(manifest);
    reordered.spec.template.spec.containers[0].env.reverse();
    await argoSync(argocd, reordered);
    // The entry observer records every write, a change or not (src/ledger/write.ts); the final
    // only one that changed something. Wait for the entry, then for whatever else it brings.
    await eventually('the entry record of the apply', async () => (entriesOf(dg.records()).length > entriesBefore ? true : undefined));
    const finals = finalsOf(await settled(dg));
    // Whatever order the API server stored, no field changed: a final with changes would be drift noise.
    expect(finals.slice(before).flatMap((r) => r.changes.filter((c: any) => !c.path.startsWith('/metadata')))).toEqual([]);
    expect(await drifted()).toEqual(driftBefore);
  });
});
