/**
 * Everyday scenarios, built from docs/kubernetes.md and judged by the same handler the
 * server runs. Sample policies: policies/ (argocd-prod, flux-apps, staging-warn).
 */
import { describe, expect, it } from 'vitest';
import { buildReview, serviceAccount, user } from '../../src/admission/build.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { MAX_WARNING_LENGTH } from '../../src/engine/decision.js';
import { edited, fixturePath, object, SAMPLE_POLICIES } from '../support/fixtures.js';
import {
  argocdController,
  deploymentController,
  fluxHelm,
  fluxKustomize,
  garbageCollector,
  hpa,
  jane,
  oncallBob,
} from '../support/identities.js';
import { judge, policies } from '../support/judge.js';

const samples = () => policies(SAMPLE_POLICIES);
const web = () => object('deployment-prod-web');
const newImage = (o: any) => {
  o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:1.42.1-hotfix';
};

describe('a person editing a GitOps-managed object', () => {
  it("denies a person's kubectl edit, naming policy, actor, fields and the policy's message", async () => {
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web(), newImage),
        oldObject: web(),
        fieldManager: 'kubectl-edit',
      }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.code).toBe(403);
    const msg = r.response.status?.message ?? '';
    expect(msg).toContain('policy argocd-prod');
    expect(msg).toContain('oidc:jane@example.com');
    expect(msg).toContain('/spec/template/spec/containers/0/image');
    expect(msg).toContain('Argo CD application shop');
    expect(msg).toContain('Change Git instead');
    expect(r.response.auditAnnotations).toEqual({ decision: 'denied', policies: 'argocd-prod' });
    expect(r.records).toHaveLength(1);
    expect(r.records[0]).toMatchObject({
      type: 'violation',
      decision: 'denied',
      allowed: false,
      policy: 'argocd-prod',
      actor: { username: 'oidc:jane@example.com', groups: ['oidc:developers', 'system:authenticated'] },
      actorClass: 'person',
      fieldManager: 'kubectl-edit',
      operation: 'UPDATE',
      resource: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'prod-shop', name: 'web' },
      owner: { tool: 'argocd', application: 'shop' },
      changes: [
        {
          path: '/spec/template/spec/containers/0/image',
          op: 'replace',
          old: 'registry.example.com/shop/web:1.42.0',
          new: 'registry.example.com/shop/web:1.42.1-hotfix',
        },
      ],
    });
  });

  it('lists at most five fields in the denial and says how many more', async () => {
    const neu = edited(web(), (o) => {
      o.spec.template.spec.containers[0].env = o.spec.template.spec.containers[0].env.map((e: any) => ({ ...e, name: `${e.name}_X` }));
      o.spec.paused = true;
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: web(), fieldManager: 'kubectl-edit' }),
      await samples(),
    );
    const msg = r.response.status?.message ?? '';
    const listed = msg.match(/\/spec\/[^ ,.]+/g) ?? [];
    expect(listed).toHaveLength(5);
    expect(msg).toMatch(/and 1 more/);
  });

  it("denies a person's DELETE and allows Argo CD's prune", async () => {
    const del = await judge(buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web() }), await samples());
    expect(del.response.allowed).toBe(false);
    expect(del.response.status?.message).toContain('may not delete Deployment prod-shop/web');
    expect(del.records[0]).toMatchObject({ operation: 'DELETE', changes: [{ path: '', op: 'remove' }] });
    const prune = await judge(buildReview({ operation: 'DELETE', userInfo: argocdController(), oldObject: web() }), await samples());
    expect(prune.response.allowed).toBe(true);
    expect(prune.records).toHaveLength(0);
  });

  it('denies a person creating an object that already carries an Argo CD tracking annotation (generateName)', async () => {
    const cm = object('configmap-generate-name');
    const r = await judge(
      buildReview({ operation: 'CREATE', userInfo: jane(), object: cm, fieldManager: 'kubectl-create' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toContain('may not create ConfigMap prod-shop/web-config-*');
    expect(r.records[0].resource).toMatchObject({ kind: 'ConfigMap', namespace: 'prod-shop', generateName: 'web-config-' });
    expect(r.records[0].resource.name).toBeUndefined();
  });

  it('allows an edit that changes only bookkeeping (a no-op apply)', async () => {
    const neu = edited(web(), (o) => {
      o.metadata.managedFields.push({
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2026-11-24T11:00:00Z',
      });
      o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{"changed":true}';
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: web(), fieldManager: 'kubectl-client-side-apply' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.evaluation.results.find((x) => x.policy === 'argocd-prod')).toMatchObject({
      status: 'pass',
      reason: expect.stringContaining('no drift'),
    });
    expect(r.records).toHaveLength(0);
  });

  it('still covers an UPDATE that strips the tracking marks in the same request', async () => {
    const neu = edited(web(), (o) => {
      delete o.metadata.annotations['argocd.argoproj.io/tracking-id'];
      delete o.metadata.labels['app.kubernetes.io/instance'];
      newImage(o);
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: web(), fieldManager: 'kubectl-edit' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
    const paths = r.records[0].changes.map((c: any) => c.path);
    expect(paths).toContain('/metadata/annotations/argocd.argoproj.io~1tracking-id');
    expect(paths).toContain('/metadata/labels/app.kubernetes.io~1instance');
  });
});

describe('GitOps and the control plane', () => {
  it('allows the Argo CD application controller to update what it manages', async () => {
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        object: edited(web(), newImage),
        oldObject: web(),
        fieldManager: 'argocd-controller',
      }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.response.warnings).toBeUndefined();
    expect(r.evaluation.results.find((x) => x.policy === 'argocd-prod')?.reason).toBe('actor allowed by preset argocd');
    expect(r.records).toHaveLength(0);
  });

  it('does not treat argocd-server (UI edits) as the application controller', async () => {
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: serviceAccount('argocd', 'argocd-server'),
        object: edited(web(), newImage),
        oldObject: web(),
      }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
  });

  it('allows Flux kustomize-controller and helm-controller, denies a person and Argo CD on Flux objects', async () => {
    const api = object('deployment-flux-api');
    const neu = edited(api, newImage);
    for (const who of [fluxKustomize(), fluxHelm()]) {
      const r = await judge(
        buildReview({ operation: 'UPDATE', userInfo: who, object: neu, oldObject: api, fieldManager: 'kustomize-controller' }),
        await samples(),
      );
      expect(r.response.allowed).toBe(true);
    }
    const person = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: api, fieldManager: 'kubectl-edit' }),
      await samples(),
    );
    expect(person.response.allowed).toBe(false);
    expect(person.response.status?.message).toContain('Flux Kustomization flux-system/apps');
    expect(person.records[0].owner).toEqual({ tool: 'flux', kind: 'Kustomization', name: 'apps', namespace: 'flux-system' });
    const argo = await judge(
      buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: neu, oldObject: api }),
      await samples(),
    );
    expect(argo.response.allowed).toBe(false);
  });

  it("allows a controller's status write (deployment-controller through /status)", async () => {
    const neu = edited(web(), (o) => {
      o.status.readyReplicas = 2;
      o.metadata.annotations['deployment.kubernetes.io/revision'] = '8';
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: deploymentController(), object: neu, oldObject: web(), subResource: 'status' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.records).toHaveLength(0);
  });

  it('allows a status-only write by a non-system operator: status is never drift', async () => {
    const neu = edited(web(), (o) => {
      o.status.conditions[0].message = 'rolled by an operator';
    });
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: serviceAccount('rollouts', 'argo-rollouts'),
        object: neu,
        oldObject: web(),
        subResource: 'status',
      }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.evaluation.results.find((x) => x.policy === 'argocd-prod')?.status).toBe('pass');
  });

  it("allows the garbage collector's finalizer update", async () => {
    const neu = edited(web(), (o) => {
      o.metadata.finalizers = ['foregroundDeletion'];
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: garbageCollector(), object: neu, oldObject: web() }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
  });

  it('with systemActors: deny, the control plane is judged like anyone else', async () => {
    const set = await policies(fixturePath('policies', 'strict-hpa'));
    const neu = edited(web(), (o) => {
      o.metadata.finalizers = ['foregroundDeletion'];
    });
    const r = await judge(buildReview({ operation: 'UPDATE', userInfo: garbageCollector(), object: neu, oldObject: web() }), set);
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toContain('/metadata/finalizers/0');
  });
});

describe('scale: the Scale object carries no labels', () => {
  const scaleTo = (n: number) =>
    edited(web(), (o) => {
      o.spec.replicas = n;
    });

  it('builds the review as the API server does (Scale without labels, no fieldManager)', () => {
    const review = buildReview({ operation: 'UPDATE', userInfo: jane(), object: scaleTo(5), oldObject: web(), subResource: 'scale' });
    expect(review.request.kind).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(review.request.resource).toEqual({ group: 'apps', version: 'v1', resource: 'deployments' });
    expect(review.request.object?.metadata?.labels).toBeUndefined();
    expect(review.request.object?.metadata?.annotations).toBeUndefined();
    expect(review.request.options).toEqual({ kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' });
  });

  it('denies kubectl scale of an Argo CD-managed Deployment by a person when nothing is known of the parent (unresolved: match)', async () => {
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: scaleTo(8), oldObject: web(), subResource: 'scale' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toContain('deployments/scale prod-shop/web');
    expect(r.response.status?.message).toContain('/spec/replicas');
    expect(r.evaluation.results.find((x) => x.policy === 'argocd-prod')?.reason).toContain('unresolved: match');
    expect(r.records[0]).toMatchObject({
      resource: { subResource: 'scale', kind: 'Scale' },
      changes: [{ path: '/spec/replicas', old: 3, new: 8 }],
    });
    expect(r.records[0].fieldManager).toBeUndefined();
  });

  it("uses what it saw of the parent: Argo CD's admitted write teaches the labels, then kubectl scale is denied", async () => {
    const set = await policies(fixturePath('policies', 'unresolved-skip'));
    const parents = new ParentResolver();
    const unknown = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: scaleTo(8), oldObject: web(), subResource: 'scale' }),
      set,
      { parents },
    );
    expect(unknown.response.allowed).toBe(true); // unresolved: skip and nothing known yet
    expect(unknown.evaluation.results[0]?.reason).toContain('unresolved: skip');
    const argo = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        object: edited(web(), newImage),
        oldObject: web(),
        fieldManager: 'argocd-controller',
      }),
      set,
      { parents },
    );
    expect(argo.response.allowed).toBe(true);
    const known = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: scaleTo(8), oldObject: web(), subResource: 'scale' }),
      set,
      { parents },
    );
    expect(known.response.allowed).toBe(false);
    expect(known.records[0].owner).toMatchObject({ tool: 'argocd', application: 'shop' });
  });

  it('a denied or dry-run write does not teach the cache', async () => {
    const set = await policies(fixturePath('policies', 'unresolved-skip'));
    const parents = new ParentResolver();
    await judge(
      buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: edited(web(), newImage), oldObject: web(), dryRun: true }),
      set,
      { parents },
    );
    expect(parents.cache.size).toBe(0);
  });

  it('allows the HPA to scale: by the exception when systemActors is deny, and by the control-plane rule in the samples', async () => {
    const strict = await policies(fixturePath('policies', 'strict-hpa'));
    const hpaScale = buildReview({ operation: 'UPDATE', userInfo: hpa(), object: scaleTo(5), oldObject: web(), subResource: 'scale' });
    const byException = await judge(hpaScale, strict);
    expect(byException.response.allowed).toBe(true);
    expect(byException.evaluation.results.find((x) => x.policy === 'strict-prod')?.reason).toContain('exempt');

    const noException = edited(web(), (o) => {
      o.metadata.namespace = 'prod-no-hpa';
    });
    const scaleNoHpa = buildReview({
      operation: 'UPDATE',
      userInfo: hpa(),
      object: { ...noException, spec: { ...(noException as any).spec, replicas: 5 } },
      oldObject: noException,
      subResource: 'scale',
    });
    const denied = await judge(scaleNoHpa, strict);
    expect(denied.response.allowed).toBe(false);

    const samplesAllow = await judge(hpaScale, await samples());
    expect(samplesAllow.response.allowed).toBe(true);
  });

  it('the HPA exception covers replicas only: the HPA changing anything else is drift under systemActors: deny', async () => {
    const strict = await policies(fixturePath('policies', 'strict-hpa'));
    const neu = edited(web(), (o) => {
      o.spec.replicas = 5;
      o.spec.template.spec.containers[0].resources.limits.cpu = '4';
    });
    const r = await judge(buildReview({ operation: 'UPDATE', userInfo: hpa(), object: neu, oldObject: web() }), strict);
    expect(r.response.allowed).toBe(false);
    expect(r.records[0].changes.map((c: any) => c.path)).toEqual(['/spec/template/spec/containers/0/resources/limits/cpu']);
  });
});

describe('rollout restart', () => {
  const restart = () =>
    edited(web(), (o) => {
      o.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = '2026-11-24T12:30:00+01:00';
    });

  it('is allowed for on-call (exception by JSONPath for group oncall)', async () => {
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: oncallBob(), object: restart(), oldObject: web(), fieldManager: 'kubectl-rollout' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.records).toHaveLength(0);
  });

  it('is allowed for on-call even when the template had no annotations at all', async () => {
    const bare = edited(web(), (o) => {
      delete o.spec.template.metadata.annotations;
    });
    const neu = edited(bare, (o) => {
      o.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-11-24T12:30:00Z' };
    });
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: oncallBob(), object: neu, oldObject: bare, fieldManager: 'kubectl-rollout' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
  });

  it('is denied for someone not on call', async () => {
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: restart(), oldObject: web(), fieldManager: 'kubectl-rollout' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toContain('/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt');
  });

  it('does not let on-call smuggle another change along with the restart', async () => {
    const neu = edited(restart(), newImage);
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: oncallBob(), object: neu, oldObject: web(), fieldManager: 'kubectl-rollout' }),
      await samples(),
      { now: new Date('2026-12-02T00:00:00Z') },
    );
    expect(r.response.allowed).toBe(false);
    expect(r.records[0].changes.map((c: any) => c.path)).toEqual(['/spec/template/spec/containers/0/image']);
  });
});

describe('modes, break-glass and several policies', () => {
  it('warn mode allows with a warning of at most 120 characters and records "warned"', async () => {
    const st = object('deployment-staging-web');
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(st, newImage), oldObject: st, fieldManager: 'kubectl-edit' }),
      await samples(),
    );
    expect(r.response.allowed).toBe(true);
    expect(r.response.warnings).toHaveLength(1);
    expect(r.response.warnings![0]!.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(r.response.warnings![0]).toContain('staging-warn');
    expect(r.records[0]).toMatchObject({ decision: 'warned', allowed: true, mode: 'warn' });
  });

  it('break-glass before expiry: allowed with a warning, recorded with its reason', async () => {
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: oncallBob(),
        object: edited(web(), newImage),
        oldObject: web(),
        fieldManager: 'kubectl-edit',
      }),
      await samples(),
      { now: new Date('2026-11-30T23:59:59Z') },
    );
    expect(r.response.allowed).toBe(true);
    expect(r.response.warnings?.[0]).toContain('break-glass');
    expect(r.response.warnings?.[0]).toContain('INC-4711');
    expect(r.response.auditAnnotations?.['break-glass']).toBe('INC-4711 hotfix while Git is frozen');
    expect(r.records[0]).toMatchObject({
      decision: 'break-glass',
      allowed: true,
      breakGlass: { reason: 'INC-4711 hotfix while Git is frozen', expires: '2026-12-01T00:00:00Z' },
    });
  });

  it('break-glass after expiry: denied, and the reason says the entry expired', async () => {
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: oncallBob(), object: edited(web(), newImage), oldObject: web() }),
      await samples(),
      { now: new Date('2026-12-01T00:00:00Z') },
    );
    expect(r.response.allowed).toBe(false);
    expect(r.records[0].reason).toContain('break-glass expired 2026-12-01T00:00:00Z');
  });

  it('a deny wins, warnings are merged, audit is recorded', async () => {
    const set = await policies(fixturePath('policies', 'layered'));
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web(), newImage),
        oldObject: web(),
        fieldManager: 'kubectl-edit',
      }),
      set,
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toContain('Images come from Git.');
    expect(r.response.warnings).toHaveLength(1);
    expect(r.response.warnings![0]).toContain('b-warn-all');
    expect(r.records.map((x) => [x.policy, x.decision, x.allowed])).toEqual([
      ['a-enforce-image', 'denied', false],
      ['b-warn-all', 'warned', false],
      ['c-audit-all', 'audited', false],
    ]);
    expect(r.response.auditAnnotations).toEqual({ decision: 'denied', policies: 'a-enforce-image,b-warn-all,c-audit-all' });
  });

  it('audit annotation keys are qualified-name segments (the API server logs them as <webhook>/<key>)', async () => {
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: oncallBob(), object: edited(web(), newImage), oldObject: web() }),
      await samples(),
      { now: new Date('2026-11-30T00:00:00Z') },
    );
    const keys = Object.keys(r.response.auditAnnotations ?? {});
    expect(keys).toEqual(['decision', 'policies', 'break-glass']);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
  });

  it('an exception without actors applies to anyone; the other policies still judge the change', async () => {
    const set = await policies(fixturePath('policies', 'layered'));
    const neu = edited(web(), (o) => {
      o.spec.template.spec.containers[0].env[0].value = 'debug';
    });
    const r = await judge(buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: web() }), set);
    expect(r.response.allowed).toBe(true);
    expect(r.evaluation.results.map((x) => x.status)).toEqual(['pass', 'warn', 'audit']);
  });
});

describe('who is who: names match exactly', () => {
  const argoName = 'system:serviceaccount:argocd:argocd-application-controller';
  const lookalikes = [
    {
      name: 'trailing space',
      userInfo: { username: `${argoName} `, groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'] },
    },
    { name: 'other case', userInfo: { username: argoName.toUpperCase(), groups: ['system:authenticated'] } },
    { name: 'longer name sharing the prefix', userInfo: serviceAccount('argocd', 'argocd-application-controller-evil') },
    {
      name: 'a group that only looks like GitOps',
      userInfo: user('mallory', ['system:serviceaccounts:argocd', 'argocd-application-controller']),
    },
    { name: 'the same name in another namespace', userInfo: serviceAccount('argocd-evil', 'argocd-application-controller') },
  ];
  for (const l of lookalikes) {
    it(`denies ${l.name}`, async () => {
      const r = await judge(
        buildReview({ operation: 'UPDATE', userInfo: l.userInfo, object: edited(web(), newImage), oldObject: web() }),
        await samples(),
      );
      expect(r.response.allowed).toBe(false);
      expect(r.records[0].actor.username).toBe(l.userInfo.username);
    });
  }

  it('a user glob matches only where the author wrote one', async () => {
    const set = await policies(fixturePath('policies', 'selector'));
    const ok = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: user('oidc:ann@platform.example.com'),
        object: edited(web(), newImage),
        oldObject: web(),
      }),
      set,
    );
    expect(ok.response.allowed).toBe(true);
    const no = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: user('oidc:ann@platform.example.com.evil.io'),
        object: edited(web(), newImage),
        oldObject: web(),
      }),
      set,
    );
    expect(no.response.allowed).toBe(false);
  });
});

describe('coverage explains itself', () => {
  it('says why each policy was skipped', async () => {
    const st = object('deployment-flux-api');
    const r = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(st, newImage), oldObject: st }),
      await samples(),
    );
    const byName = Object.fromEntries(r.evaluation.results.map((x) => [x.policy, x]));
    expect(byName['argocd-prod']).toMatchObject({ status: 'skip', reason: 'namespace apps-team not in prod-*' });
    expect(byName['staging-warn']).toMatchObject({ status: 'skip', reason: 'namespace apps-team not in staging' });
    expect(byName['flux-apps']?.status).toBe('fail');
  });

  it('selector: matchLabels and NotIn are read from oldObject; operations limit coverage', async () => {
    const set = await policies(fixturePath('policies', 'selector'));
    const experimental = edited(web(), (o) => {
      o.metadata.labels.tier = 'experimental';
    });
    const r1 = await judge(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(experimental, newImage), oldObject: experimental }),
      set,
    );
    expect(r1.evaluation.results[0]).toMatchObject({ status: 'skip', reason: 'selector requirement tier notin (experimental) not met' });
    const r2 = await judge(buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web() }), set);
    expect(r2.evaluation.results[0]).toMatchObject({ status: 'skip', reason: 'operation DELETE not in UPDATE' });
    const r3 = await judge(buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(web(), newImage), oldObject: web() }), set);
    expect(r3.response.allowed).toBe(false);
  });

  it('matches kind, not requestKind (matchPolicy Equivalent converts the request)', async () => {
    const r = await judge(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web(), newImage),
        oldObject: web(),
        requestKind: { group: 'extensions', version: 'v1beta1', kind: 'Deployment' },
      }),
      await samples(),
    );
    expect(r.response.allowed).toBe(false);
  });

  it('CONNECT is never covered', async () => {
    const review = buildReview({
      operation: 'CONNECT',
      userInfo: jane(),
      object: { apiVersion: 'v1', kind: 'PodExecOptions', metadata: { name: 'web-1', namespace: 'prod-shop' } },
    });
    const r = await judge(review, await samples());
    expect(r.response.allowed).toBe(true);
    expect(r.evaluation.results.every((x) => x.status === 'skip')).toBe(true);
  });
});

describe('dry runs', () => {
  it('are judged exactly like real requests and leave no record', async () => {
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: jane(),
      object: edited(web(), newImage),
      oldObject: web(),
      fieldManager: 'kubectl-client-side-apply',
      dryRun: true,
    });
    expect(review.request.options).toMatchObject({ dryRun: ['All'] });
    const r = await judge(review, await samples());
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.code).toBe(403);
    expect(r.records).toHaveLength(0);
  });
});
