/**
 * After the day: a working day on a real cluster (Argo CD syncs, a developer's denied edits, an
 * on-call restart, the HPA, a break-glass hotfix, a warn-mode edit in staging, a self-heal), then
 * `driftguard explain`, `history` and `audit` over the records file the server wrote: the right
 * actor for every field, and the counts kubectl saw.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  argocd as argocdAccount,
  ARGOCD_USERNAME as ARGOCD,
  argoSync,
  describeE2e,
  getJson,
  hpa as hpaAccount,
  HPA_USERNAME as HPA,
  installDriftguard,
  kubectl,
  namespace,
  putScale,
  type Driftguard,
  type KubectlResult,
  type Obj,
  type ServiceAccount,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { cli, settled } from './support/records.js';

const NS = 'prod-day';
const STAGING = 'staging-day';
const IMAGE = '/spec/template/spec/containers/0/image';
const LOG_LEVEL = '/spec/template/spec/containers/0/env/0/value';
// explain names fields of keyed lists by key (docs/keyed-paths.md).
const IMAGE_BY_KEY = '/spec/template/spec/containers[name=app]/image';
const LOG_LEVEL_BY_KEY = '/spec/template/spec/containers[name=app]/env[name=LOG_LEVEL]/value';
const RESTARTED = '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt';

describeE2e('after the day: explain, history and audit over what a real cluster wrote', () => {
  let dg: Driftguard;
  let argocd: ServiceAccount;
  let hpa: ServiceAccount;
  /** What kubectl showed the people: denials (exit 1, "denied the request") and Warning lines. */
  const saw = { denied: 0, warned: 0, 'break-glass': 0 };
  /** Every write that went through, in order: who, and on which object. */
  const writes: string[] = [];

  const tally = (r: KubectlResult): KubectlResult => {
    if (r.code !== 0 && r.stderr.includes('denied the request')) saw.denied++;
    for (const line of r.stderr.split('\n')) {
      if (/^Warning: driftguard: break-glass /.test(line)) saw['break-glass']++;
      else if (/^Warning: driftguard: .* \(warn\): /.test(line)) saw.warned++;
    }
    return r;
  };
  const person = async (who: 'alice' | 'bob' | 'carol', args: string[]) => {
    const r = tally(await kubectl(who, args));
    if (r.code === 0) writes.push(`${who} ${args[0]}`);
    return r;
  };
  const sync = async (o: Obj) => {
    await argoSync(argocd, o);
    writes.push('argocd apply');
  };
  const web = (image = 'registry.example.com/shop/web:1.0.0') => deployment(NS, 'web', { replicas: 2, image, env: { LOG_LEVEL: 'info' } });

  beforeAll(async () => {
    ({ dg } = await installDriftguard());
    await namespace(NS);
    await namespace(STAGING);
    argocd = await argocdAccount();
    hpa = await hpaAccount();

    await sync(web());
    await sync(deployment(STAGING, 'web'));
    // Morning: a developer tries three ways, each denied.
    await person('alice', ['set', 'image', 'deployment/web', '-n', NS, 'app=registry.example.com/shop/web:6.6.6']);
    await person('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=10']);
    await person('alice', [
      'patch',
      'deployment/web',
      '-n',
      NS,
      '--type=json',
      '-p',
      `[{"op":"replace","path":"${LOG_LEVEL}","value":"debug"}]`,
    ]);
    // The HPA scales up; on-call restarts (a policy exception).
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 4)).toMatchObject({ code: 0, stderr: '' });
    writes.push('hpa scale');
    await person('bob', ['rollout', 'restart', 'deployment/web', '-n', NS]);
    // Noon: Argo CD self-heals the replicas and ships 1.1.0; the HPA scales again.
    await sync(web('registry.example.com/shop/web:1.1.0'));
    expect(await putScale(hpa, 'apps', 'deployments', NS, 'web', 3)).toMatchObject({ code: 0, stderr: '' });
    writes.push('hpa scale');
    // Afternoon: a break-glass hotfix to the log level; a warn-mode edit in staging; a denied delete.
    await person('carol', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=debug']);
    await person('alice', ['set', 'image', 'deployment/web', '-n', STAGING, 'app=registry.example.com/shop/web:1.0.1']);
    await person('alice', ['delete', 'deployment/web', '-n', NS]);
    await settled(dg);
  });
  afterAll(async () => {
    await dg?.stop();
  });

  it('kubectl saw what the day was meant to show', () => {
    expect(saw).toEqual({ denied: 4, warned: 1, 'break-glass': 1 });
    expect(writes).toEqual([
      'argocd apply',
      'argocd apply',
      'hpa scale',
      'bob rollout',
      'argocd apply',
      'hpa scale',
      'carol set',
      'alice set',
    ]);
  });

  it('explain names the right last writer, GitOps value and drift for every field that changed', async () => {
    const live = await getJson('admin', ['deployment', 'web', '-n', NS]);
    const r = await cli(['explain', 'deployment/web', '-n', NS, dg.recordsFile, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const fields = Object.fromEntries(out.fields.map((f: Obj) => [f.path, f]));
    expect(Object.keys(fields).sort(), r.stdout).toEqual([LOG_LEVEL_BY_KEY, IMAGE_BY_KEY, RESTARTED, '/spec/replicas'].sort());

    expect(fields['/spec/replicas']).toMatchObject({ value: 3, drift: true, lastWriter: { username: HPA, actorClass: 'controller' } });
    expect(fields['/spec/replicas'].gitops).toMatchObject({ value: 2, username: ARGOCD });
    expect(fields[IMAGE_BY_KEY]).toMatchObject({
      value: 'registry.example.com/shop/web:1.1.0',
      drift: false,
      lastWriter: { username: ARGOCD, actorClass: 'gitops', fieldManager: 'argocd-controller' },
    });
    expect(fields[LOG_LEVEL_BY_KEY]).toMatchObject({
      value: 'debug',
      drift: true,
      lastWriter: { username: 'carol@example.com', actorClass: 'person', fieldManager: 'kubectl-set' },
    });
    expect(fields[RESTARTED]).toMatchObject({
      value: live.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'],
      drift: true,
      lastWriter: { username: 'bob@example.com', fieldManager: 'kubectl-rollout' },
    });
    // The values explain reports are the live object's.
    expect(fields['/spec/replicas'].value).toBe(live.spec.replicas);
    expect(fields[IMAGE_BY_KEY].value).toBe(live.spec.template.spec.containers[0].image);
    expect(fields[LOG_LEVEL_BY_KEY].value).toBe(live.spec.template.spec.containers[0].env[0].value);
    // No denied attempt shows as a writer.
    expect(JSON.stringify(out.fields)).not.toContain('alice@example.com');
  });

  it('history lists every admitted write and every denied attempt, in order, with its actor', async () => {
    const r = await cli(['history', 'deployment/web', '-n', NS, dg.recordsFile, '--reverse', '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const entries = JSON.parse(r.stdout).entries as Obj[];
    expect(entries.map((e) => `${e.kind} ${e.operation} ${e.actor.username} ${e.fieldManager ?? '-'}`)).toEqual([
      `write CREATE ${ARGOCD} argocd-controller`,
      'denied UPDATE alice@example.com kubectl-set',
      'denied UPDATE alice@example.com -',
      'denied UPDATE alice@example.com kubectl-patch',
      `write UPDATE ${HPA} -`,
      'write UPDATE bob@example.com kubectl-rollout',
      `write UPDATE ${ARGOCD} argocd-controller`,
      `write UPDATE ${HPA} -`,
      'write UPDATE carol@example.com kubectl-set',
      'denied DELETE alice@example.com -',
    ]);
    const heal = entries[6]!;
    expect(heal.changes.map((c: Obj) => `${c.path} ${JSON.stringify(c.old)} -> ${JSON.stringify(c.new)}`).sort()).toEqual(
      [`/spec/replicas 4 -> 2`, `${IMAGE} "registry.example.com/shop/web:1.0.0" -> "registry.example.com/shop/web:1.1.0"`].sort(),
    );
    expect(entries[8]!.policies).toEqual([expect.objectContaining({ policy: 'argocd-prod', decision: 'break-glass' })]);
  });

  it('audit counts what kubectl saw, per decision and per actor', async () => {
    const r = await cli(['audit', dg.recordsFile, '-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const { summary } = JSON.parse(r.stdout);
    expect(summary.counts).toEqual({ ...saw, audited: 0 });
    expect(summary.total).toBe(saw.denied + saw.warned + saw['break-glass']);
    const actors = Object.fromEntries(summary.actors.map((a: Obj) => [a.key, a.counts]));
    expect(actors).toEqual({
      'alice@example.com': { denied: 4, warned: 1, audited: 0, 'break-glass': 0 },
      'carol@example.com': { denied: 0, warned: 0, audited: 0, 'break-glass': 1 },
    });
    const list = await cli(['audit', dg.recordsFile, '--decision', 'denied', '-n', NS, '--view', 'list', '-o', 'json']);
    expect(JSON.parse(list.stdout)).toHaveLength(saw.denied);
  });
});
