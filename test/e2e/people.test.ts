/**
 * A person at the real kubectl, against objects GitOps owns: every everyday command, what kubectl
 * exits with and prints, and what driftguard wrote (real JSON lines on disk). Dry runs write nothing.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd,
  argoSync,
  describeE2e,
  flux,
  fluxReconcile,
  getJson,
  installDriftguard,
  kubectl,
  namespace,
  type Driftguard,
  type Obj,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { recordsOf, settled, summary } from './support/records.js';

const NS = 'prod-people';
const FLUX_NS = 'apps-people';
const STAGING = 'staging-people';
const ALICE = 'alice@example.com';
const DENIED = 'admission webhook "validate.driftguard.io" denied the request: driftguard: policy argocd-prod: ';
const GIT = 'Change Git instead: https://git.example.com/platform/apps';
const IMAGE = '/spec/template/spec/containers/0/image';
// Denials and warnings name the container by key (docs/keyed-paths.md); records also keep the index.
const IMAGE_BY_KEY = '/spec/template/spec/containers[name=app]/image';

describeE2e('a person at kubectl on a real API server', () => {
  let dg: Driftguard;
  let live: Obj;

  /** The records a command left about deployment/web in NS, beyond the `before` count. */
  const after = async (before: number, ns = NS, name = 'web') => {
    await settled(dg);
    return recordsOf(dg, ns, name).slice(before);
  };
  const count = (ns = NS, name = 'web') => recordsOf(dg, ns, name).length;
  /** A denied UPDATE: the entry observer saw it, no `final`, one violation. */
  const deniedUpdate = (manager: string | undefined, paths: string, sub = '-') => [
    `entry UPDATE ${sub} ${ALICE} ${manager ?? '-'} ${paths}`,
    `denied UPDATE ${sub} ${ALICE} ${manager ?? '-'} ${paths}`,
  ];
  const unchanged = async () => {
    const now = await getJson('admin', ['deployment', 'web', '-n', NS]);
    expect(now.metadata.resourceVersion).toBe(live.metadata.resourceVersion);
  };

  beforeAll(async () => {
    ({ dg } = await installDriftguard());
    await namespace(NS);
    await namespace(FLUX_NS);
    await namespace(STAGING);
    await argoSync(await argocd(), [deployment(NS, 'web'), deployment(STAGING, 'web')]);
    await fluxReconcile(await flux(), deployment(FLUX_NS, 'api', { flux: 'apps' }));
    await settled(dg);
    live = await getJson('admin', ['deployment', 'web', '-n', NS]);
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('kubectl edit (EDITOR a script): denied, the copy kept, the attempt recorded', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-editor-'));
    const editor = path.join(dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s#shop/web:1.0.0#shop/web:6.6.6-hotfix#" "$1"\n');
    chmodSync(editor, 0o755);
    const before = count();
    const r = await kubectl('alice', ['edit', 'deployment/web', '-n', NS], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: deployments\\.apps "web" could not be patched: ${esc(DENIED)}${esc(
          `${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): ${IMAGE_BY_KEY}. ${GIT}`,
        )}\\nYou can run \`kubectl replace -f /tmp/kubectl-edit-\\d+\\.yaml\` to try this update again\\.\\n$`,
      ),
    );
    const recs = await after(before);
    expect(summary(recs)).toEqual(deniedUpdate('kubectl-edit', IMAGE));
    const v = recs[1]!;
    expect(v).toMatchObject({
      schema: 'driftguard.io/v2',
      type: 'violation',
      decision: 'denied',
      allowed: false,
      mode: 'enforce',
      policy: 'argocd-prod',
      actor: { username: ALICE, groups: ['e2e:developers', 'system:authenticated'], uid: 'alice-uid' },
      actorClass: 'person',
      resource: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: NS, name: 'web' },
      changes: [
        {
          path: IMAGE,
          keyed: IMAGE_BY_KEY,
          op: 'replace',
          old: 'registry.example.com/shop/web:1.0.0',
          new: 'registry.example.com/shop/web:6.6.6-hotfix',
        },
      ],
      owner: { tool: 'argocd', application: 'shop' },
    });
    await unchanged();
  });

  it('kubectl set image, scale, patch: denied with the exact message kubectl prints', async () => {
    let before = count();
    const set = await kubectl('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:6.6.6']);
    expect(set).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: failed to patch image update to pod template: ${DENIED}${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): ${IMAGE_BY_KEY}. ${GIT}\n`,
    });
    expect(summary(await after(before))).toEqual(deniedUpdate('kubectl-set', IMAGE));

    before = count();
    const scale = await kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=7']);
    expect(scale).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): ${DENIED}${ALICE} may not change deployments/scale ${NS}/web (managed by Argo CD application shop): /spec/replicas. ${GIT}\n`,
    });
    // kubectl scale sends no field manager; the request is on the scale subresource.
    const scaled = await after(before);
    expect(summary(scaled)).toEqual(deniedUpdate(undefined, '/spec/replicas', 'scale'));
    expect(scaled[1]).toMatchObject({ changes: [{ path: '/spec/replicas', op: 'replace', old: 2, new: 7 }] });
    expect(scaled[1]!.fieldManager).toBeUndefined();

    before = count();
    const patch = await kubectl('alice', ['patch', 'deployment/web', '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":9}}']);
    expect(patch).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): ${DENIED}${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): /spec/replicas. ${GIT}\n`,
    });
    expect(summary(await after(before))).toEqual(deniedUpdate('kubectl-patch', '/spec/replicas'));
    await unchanged();
  });

  it('kubectl rollout restart: denied to a developer, allowed to on-call by the policy exception', async () => {
    const restartedAt = '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt';
    let before = count();
    const denied = await kubectl('alice', ['rollout', 'restart', 'deployment/web', '-n', NS]);
    expect(denied).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: failed to patch: ${DENIED}${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): ${restartedAt}. ${GIT}\n`,
    });
    expect(summary(await after(before))).toEqual(deniedUpdate('kubectl-rollout', restartedAt));
    await unchanged();

    before = count();
    expect(await kubectl('bob', ['rollout', 'restart', 'deployment/web', '-n', NS])).toEqual({
      code: 0,
      stdout: 'deployment.apps/web restarted\n',
      stderr: '',
    });
    const bob = await after(before);
    expect(summary(bob)).toEqual(['entry', 'final'].map((s) => `${s} UPDATE - bob@example.com kubectl-rollout ${restartedAt}`));
    expect(bob[1]!.changes[0].new).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    live = await getJson('admin', ['deployment', 'web', '-n', NS]);
    expect(live.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(bob[1]!.changes[0].new);
  });

  it('removing the tracking mark is itself a change the policy denies (labels read from oldObject)', async () => {
    const mark = '/metadata/annotations/argocd.argoproj.io~1tracking-id';
    let before = count();
    const annotate = await kubectl('alice', ['annotate', '--overwrite', 'deployment/web', '-n', NS, 'argocd.argoproj.io/tracking-id-']);
    expect(annotate).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): ${DENIED}${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): ${mark}. ${GIT}\n`,
    });
    const annotated = await after(before);
    expect(summary(annotated)).toEqual(deniedUpdate('kubectl-annotate', mark));
    expect(annotated[1]!.changes).toEqual([{ path: mark, op: 'remove', old: `shop:apps/Deployment:${NS}/web` }]);
    await unchanged();

    // Flux marks objects with labels: kubectl label --overwrite, removing both.
    before = count(FLUX_NS, 'api');
    const label = await kubectl('alice', [
      'label',
      '--overwrite',
      'deployment/api',
      '-n',
      FLUX_NS,
      'kustomize.toolkit.fluxcd.io/name-',
      'kustomize.toolkit.fluxcd.io/namespace-',
    ]);
    const labels = '/metadata/labels/kustomize.toolkit.fluxcd.io~1name, /metadata/labels/kustomize.toolkit.fluxcd.io~1namespace';
    expect(label).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Error from server (Forbidden): admission webhook "validate.driftguard.io" denied the request: driftguard: policy flux-apps: ' +
        `${ALICE} may not change Deployment ${FLUX_NS}/api (managed by Flux Kustomization flux-system/apps): ${labels}. ` +
        'This object is reconciled by Flux: change it in Git.\n',
    });
    expect(summary(await after(before, FLUX_NS, 'api'))).toEqual([
      `entry UPDATE - ${ALICE} kubectl-label ${labels.replace(', ', ',')}`,
      `denied UPDATE - ${ALICE} kubectl-label ${labels.replace(', ', ',')}`,
    ]);
    expect((await getJson('admin', ['deployment', 'api', '-n', FLUX_NS])).metadata.labels['kustomize.toolkit.fluxcd.io/name']).toBe('apps');
  });

  it('kubectl delete: denied; the whole object is the change', async () => {
    const before = count();
    expect(await kubectl('alice', ['delete', 'deployment/web', '-n', NS])).toEqual({
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): ${DENIED}${ALICE} may not delete Deployment ${NS}/web (managed by Argo CD application shop). ${GIT}\n`,
    });
    const recs = await after(before);
    expect(summary(recs)).toEqual([`denied DELETE - ${ALICE} - `]);
    expect(recs[0]!.changes).toEqual([expect.objectContaining({ path: '', op: 'remove' })]);
    await unchanged();
  });

  it('kubectl apply --dry-run=server: judged like the real thing, and leaves no record at all', async () => {
    const before = dg.records().length;
    const denied = await kubectl('alice', ['apply', '--dry-run=server', '-f', '-'], {
      input: JSON.stringify(deployment(NS, 'web', { replicas: 9 })),
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      new RegExp(
        `error when patching "STDIN": ${esc(DENIED)}${esc(`${ALICE} may not change Deployment ${NS}/web (managed by Argo CD application shop): /spec/replicas. ${GIT}`)}\\n$`,
      ),
    );
    // The same object as live: kubectl adds its last-applied annotation, which is never drift.
    const allowed = await kubectl('alice', ['apply', '--dry-run=server', '-f', '-'], { input: JSON.stringify(deployment(NS, 'web')) });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe('deployment.apps/web configured (server dry run)\n');
    await settled(dg);
    expect(dg.records().slice(before)).toEqual([]);
    await unchanged();
    // driftguard did judge both: its metrics count dry runs apart.
    expect(await dg.metrics()).toMatch(/driftguard_admission_requests_total\{[^}]*dry_run="true"[^}]*\} [1-9]/);
  });

  it('warn mode: the write goes through, kubectl prints the Warning line, both records are written', async () => {
    const before = count(STAGING);
    expect(await kubectl('alice', ['set', 'image', 'deployment/web', '-n', STAGING, 'app=registry.example.com/shop/web:1.0.1'])).toEqual({
      code: 0,
      stdout: 'deployment.apps/web image updated\n',
      stderr: `Warning: driftguard: staging-warn (warn): drift by ${ALICE}: ${IMAGE_BY_KEY}\n`,
    });
    const recs = await after(before, STAGING);
    expect(summary(recs)).toEqual([
      `entry UPDATE - ${ALICE} kubectl-set ${IMAGE}`,
      `warned UPDATE - ${ALICE} kubectl-set ${IMAGE}`,
      `final UPDATE - ${ALICE} kubectl-set ${IMAGE}`,
    ]);
    expect(recs[1]).toMatchObject({ allowed: true, mode: 'warn', policy: 'staging-warn' });
    // The violation and the final change record come from the same validating call: same uid.
    expect(recs[1]!.uid).toBe(recs[2]!.uid);
    expect((await getJson('admin', ['deployment', 'web', '-n', STAGING])).spec.template.spec.containers[0].image).toBe(
      'registry.example.com/shop/web:1.0.1',
    );
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
