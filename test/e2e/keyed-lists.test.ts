/**
 * List items by key, with the requests a real kube-apiserver sends: a person's JSON patch inserts an
 * env var first; explain (from the records driftguard wrote for those reviews) names the person for
 * that var only and keeps Argo CD as the writer of the others; Argo CD applying the same env in
 * another order changes nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO } from '../support/fixtures.js';
import { applyObjects, describeE2e, eventually, kubectl, kubectlOk, namespace, serviceAccount } from './support/cluster.js';
import { driftguardCli, install, renderInstall, startDriftguard, type Driftguard } from './support/driftguard.js';
import { deployment, waitForWebhooks } from './support/objects.js';

const NS = 'prod-keyed';
const APP = '/spec/template/spec/containers[name=app]';

describeE2e('keyed lists, judged on reviews from a real API server', () => {
  let dg: Driftguard;
  let argocd: { kubeconfig: string; username: string };
  const manifest = deployment(NS, 'web', { env: { LOG_LEVEL: 'info', TIMEOUT_MS: '2500' } });
  const explain = async (...args: string[]) =>
    JSON.parse(await driftguardCli(['explain', 'deploy/web', '-n', NS, dg.recordsFile, '-o', 'json', ...args])) as { fields: any[] };

  beforeAll(async () => {
    const rendered = await renderInstall();
    await applyObjects(
      'admin',
      rendered.objects.filter((o) => o.kind === 'Namespace'),
    );
    dg = await startDriftguard({ policies: path.join(REPO, 'test/e2e/fixtures/keyed-policies'), certDir: rendered.certDir });
    await install(rendered, dg.port);
    await waitForWebhooks(dg);
    await namespace(NS);
    argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    await kubectlOk(argocd, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(manifest),
    });
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
    const before = dg.records().filter((r) => r.type === 'change' && r.stage === 'final').length;
    const reordered = structuredClone(manifest);
    reordered.spec.template.spec.containers[0].env.reverse();
    await kubectlOk(argocd, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(reordered),
    });
    const finals = dg.records().filter((r) => r.type === 'change' && r.stage === 'final');
    // Whatever order the API server stored, no field changed: a final with changes would be drift noise.
    expect(finals.slice(before).flatMap((r) => r.changes.filter((c: any) => !c.path.startsWith('/metadata')))).toEqual([]);
    const fields = (await explain()).fields.filter((f) => f.drift).map((f) => f.path);
    expect(fields).toEqual([`${APP}/env[name=FEATURE_X]/name`, `${APP}/env[name=FEATURE_X]/value`]);
  });
});
