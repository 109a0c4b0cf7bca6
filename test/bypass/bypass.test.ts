/**
 * The bypass suite: every way around driftguard that docs/development.md's Hardness section lists, sent to the real HTTPS server
 * (sample policies, records file on disk) the way the API server would send it
 * (docs/kubernetes.md). Each is caught (denied and recorded) or, where the design allows
 * it, recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview, serviceAccount, user, type BuildOptions } from '../../src/admission/build.js';
import type { AdmissionReviewRequest, KubeObject, UserInfo } from '../../src/k8s/admission.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { argocdController, hpa, jane, oncallBob } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';

const BEFORE_EXPIRY = new Date('2026-11-24T12:00:00Z');
/** The sample policy's break-glass entry for on-call expires 2099-01-01T00:00:00Z. */
const AFTER_EXPIRY = new Date('2099-01-02T09:00:00Z');
const ARGOCD_CONTROLLER = 'system:serviceaccount:argocd:argocd-application-controller';

let server: TestServer;
let now = BEFORE_EXPIRY;

beforeAll(async () => {
  server = await startTestServer({ now: () => now });
});

afterAll(async () => {
  await server?.close();
});

interface Outcome {
  apiVersion: string;
  response: any;
  /** Violation records written for this review's uid. */
  records: any[];
}

async function send(review: AdmissionReviewRequest): Promise<Outcome> {
  const res = await server.review(review);
  expect(res.status).toBe(200);
  const uid = review.request.uid;
  expect(res.json.response.uid).toBe(uid);
  // Violation records only: admitted writes also leave change-ledger records (type "change").
  return {
    apiVersion: res.json.apiVersion,
    response: res.json.response,
    records: server.records().filter((r) => r.uid === uid && r.type === 'violation'),
  };
}

function expectCaught(o: Outcome, username: string): void {
  expect(o.response.allowed).toBe(false);
  expect(o.response.status.code).toBe(403);
  expect(o.response.status.message).toContain('policy argocd-prod');
  expect(o.records).toHaveLength(1);
  expect(o.records[0]).toMatchObject({ decision: 'denied', allowed: false, policy: 'argocd-prod', actor: { username } });
}

const web = (): KubeObject => object('deployment-prod-web');
const newImage = (o: any): void => {
  o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:1.42.1-hotfix';
};
/** A person's kubectl edit of the Argo CD-managed Deployment prod-shop/web. */
const editBy = (who: UserInfo, extra: Partial<BuildOptions> = {}): AdmissionReviewRequest =>
  buildReview({
    operation: 'UPDATE',
    userInfo: who,
    object: edited(web(), newImage),
    oldObject: web(),
    fieldManager: 'kubectl-edit',
    ...extra,
  });

describe('the scale subresource', () => {
  it('denies kubectl scale by a person though the Scale carries no labels (parent never seen: unresolved match)', async () => {
    const checkout = edited(web(), (o) => (o.metadata.name = 'checkout'));
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: jane(),
      object: edited(checkout, (o) => (o.spec.replicas = 10)),
      oldObject: checkout,
      subResource: 'scale',
    });
    expect(review.request.object?.metadata?.labels).toBeUndefined();
    expect(review.request.options).not.toHaveProperty('fieldManager');
    const o = await send(review);
    expectCaught(o, 'oidc:jane@example.com');
    expect(o.records[0].resource).toMatchObject({ resource: 'deployments', subResource: 'scale', kind: 'Scale', name: 'checkout' });
    expect(o.records[0].changes).toEqual([{ path: '/spec/replicas', op: 'replace', old: 3, new: 10 }]);
  });

  it("denies it with the owner named once Argo CD's admitted write taught the parent's marks", async () => {
    expect(
      (
        await send(
          buildReview({
            operation: 'UPDATE',
            userInfo: argocdController(),
            object: edited(web(), newImage),
            oldObject: web(),
            fieldManager: 'argocd-controller',
          }),
        )
      ).response.allowed,
    ).toBe(true);
    const o = await send(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web(), (x) => (x.spec.replicas = 12)),
        oldObject: web(),
        subResource: 'scale',
      }),
    );
    expectCaught(o, 'oidc:jane@example.com');
    expect(o.records[0].owner).toMatchObject({ tool: 'argocd', application: 'shop' });
  });

  it('allows the HPA to scale (by design: control plane, and the replicas exception), with no record', async () => {
    const o = await send(
      buildReview({
        operation: 'UPDATE',
        userInfo: hpa(),
        object: edited(web(), (x) => (x.spec.replicas = 6)),
        oldObject: web(),
        subResource: 'scale',
      }),
    );
    expect(o.response.allowed).toBe(true);
    expect(o.records).toEqual([]);
  });
});

describe('API versions', () => {
  it('denies a v1beta1 review (kubectl scale fixture) and answers in v1beta1', async () => {
    const review = readJson<AdmissionReviewRequest>('reviews', 'kubectl-scale-prod-v1beta1.json');
    review.request.uid = 'bypass-v1beta1-scale';
    const o = await send(review);
    expect(o.apiVersion).toBe('admission.k8s.io/v1beta1');
    expectCaught(o, 'oidc:jane@example.com');
  });

  it('denies a kubectl edit sent as v1beta1', async () => {
    const o = await send(editBy(jane(), { apiVersion: 'admission.k8s.io/v1beta1' }));
    expect(o.apiVersion).toBe('admission.k8s.io/v1beta1');
    expectCaught(o, 'oidc:jane@example.com');
  });

  for (const requestKind of [
    { group: 'extensions', version: 'v1beta1', kind: 'Deployment' },
    { group: 'apps', version: 'v1beta2', kind: 'Deployment' },
  ]) {
    it(`denies an edit made through ${requestKind.group}/${requestKind.version} (matchPolicy Equivalent: requestKind differs from kind)`, async () => {
      const review = editBy(jane(), { requestKind });
      review.request.requestResource = { group: requestKind.group, version: requestKind.version, resource: 'deployments' };
      expect(review.request.kind).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
      expectCaught(await send(review), 'oidc:jane@example.com');
    });
  }
});

describe('DELETE then CREATE of the same object', () => {
  it("denies the person's DELETE, and the re-CREATE of the object with its marks", async () => {
    const del = await send(buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web() }));
    expectCaught(del, 'oidc:jane@example.com');
    expect(del.records[0]).toMatchObject({ operation: 'DELETE', changes: [{ path: '', op: 'remove' }] });

    const recreated = edited(web(), (o) => {
      newImage(o);
      delete o.metadata.uid;
      delete o.metadata.resourceVersion;
    });
    const create = await send(buildReview({ operation: 'CREATE', userInfo: jane(), object: recreated, fieldManager: 'kubectl-create' }));
    expectCaught(create, 'oidc:jane@example.com');
    expect(create.records[0]).toMatchObject({ operation: 'CREATE', owner: { tool: 'argocd', application: 'shop' } });
  });

  it("after Argo CD's prune (allowed), a person re-creating the pruned object with its tracking marks is denied", async () => {
    const prune = await send(buildReview({ operation: 'DELETE', userInfo: argocdController(), oldObject: web() }));
    expect(prune.response.allowed).toBe(true);
    expect(prune.records).toEqual([]);
    const o = await send(buildReview({ operation: 'CREATE', userInfo: jane(), object: web(), fieldManager: 'kubectl-client-side-apply' }));
    expectCaught(o, 'oidc:jane@example.com');
  });
});

describe('a person creating an object that carries GitOps tracking marks in a guarded namespace', () => {
  it('is denied for an Argo CD tracking annotation', async () => {
    const payments = edited(web(), (o) => {
      o.metadata = {
        name: 'ledger',
        namespace: 'prod-payments',
        annotations: { 'argocd.argoproj.io/tracking-id': 'payments:apps/Deployment:prod-payments/ledger' },
      };
    });
    const o = await send(buildReview({ operation: 'CREATE', userInfo: jane(), object: payments, fieldManager: 'kubectl-create' }));
    expectCaught(o, 'oidc:jane@example.com');
    expect(o.records[0]).toMatchObject({
      owner: { tool: 'argocd', application: 'payments' },
      resource: { namespace: 'prod-payments', name: 'ledger' },
    });
  });

  it('is denied for a ConfigMap made with generateName and only the instance label', async () => {
    const cm = edited(object('configmap-generate-name'), (o) => delete o.metadata.annotations);
    const o = await send(buildReview({ operation: 'CREATE', userInfo: jane(), object: cm, fieldManager: 'kubectl-create' }));
    expectCaught(o, 'oidc:jane@example.com');
    expect(o.records[0].resource).toMatchObject({ kind: 'ConfigMap', generateName: 'web-config-' });
  });
});

describe('usernames that resemble the GitOps account', () => {
  const lookalikes: [string, string][] = [
    ['a trailing space', `${ARGOCD_CONTROLLER} `],
    ['a leading space', ` ${ARGOCD_CONTROLLER}`],
    ['other case', 'system:serviceaccount:argocd:Argocd-Application-Controller'],
    ['all upper case', ARGOCD_CONTROLLER.toUpperCase()],
    ['a longer name sharing its prefix', `${ARGOCD_CONTROLLER}-2`],
    ['a prefix of it', 'system:serviceaccount:argocd:argocd-application'],
    ['another namespace', 'system:serviceaccount:argocd-evil:argocd-application-controller'],
    ['a Cyrillic "а" in argocd', 'system:serviceaccount:\u0430rgocd:argocd-application-controller'],
    ['a trailing NUL', `${ARGOCD_CONTROLLER}\u0000`],
    ['no system: prefix', 'serviceaccount:argocd:argocd-application-controller'],
  ];
  for (const [what, username] of lookalikes) {
    it(`denies ${what}`, async () => {
      const who: UserInfo = { username, groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'] };
      expectCaught(await send(editBy(who)), username);
    });
  }

  it('allows the exact account (the control case for the lookalikes)', async () => {
    const o = await send(editBy(serviceAccount('argocd', 'argocd-application-controller')));
    expect(o.response.allowed).toBe(true);
    expect(o.records).toEqual([]);
  });
});

describe('groups that only look like GitOps or control-plane groups', () => {
  const groups: [string, string[]][] = [
    ["Argo CD's ServiceAccount group", ['system:serviceaccounts:argocd']],
    ['a group named after the controller', ['argocd', 'argocd-application-controller', ARGOCD_CONTROLLER]],
    ["Flux's ServiceAccount group", ['system:serviceaccounts:flux-system']],
    ['system:nodes with a trailing space', ['system:nodes ']],
    ['system:masters (admins are people too)', ['system:masters']],
  ];
  for (const [what, extra] of groups) {
    it(`denies a person in ${what}`, async () => {
      expectCaught(await send(editBy(user('oidc:mallory@example.com', extra))), 'oidc:mallory@example.com');
    });
  }

  it('does not break the glass for a group that only resembles on-call', async () => {
    for (const g of ['oncall ', 'OnCall', 'oncall-shadow', 'system:oncall']) {
      const o = await send(editBy(user('oidc:eve@example.com', [g])));
      expectCaught(o, 'oidc:eve@example.com');
      expect(o.records[0].decision).toBe('denied');
    }
  });
});

describe('break-glass', () => {
  it('before expiry: allowed for on-call, recorded as break-glass (by design)', async () => {
    now = BEFORE_EXPIRY;
    const o = await send(editBy(oncallBob()));
    expect(o.response.allowed).toBe(true);
    expect(o.response.warnings[0]).toContain('break-glass');
    expect(o.records).toHaveLength(1);
    expect(o.records[0]).toMatchObject({ decision: 'break-glass', allowed: true, breakGlass: { expires: '2099-01-01T00:00:00Z' } });
  });

  it('after expiry: denied, and the record says the entry expired', async () => {
    now = AFTER_EXPIRY;
    try {
      const o = await send(editBy(oncallBob()));
      expectCaught(o, 'oidc:bob@example.com');
      expect(o.records[0].reason).toContain('break-glass expired 2099-01-01T00:00:00Z');
      expect(o.records[0].breakGlass).toBeUndefined();
    } finally {
      now = BEFORE_EXPIRY;
    }
  });
});

describe('an UPDATE that removes the tracking marks in the same request', () => {
  it('is judged by the stored object: denied, and the removal of the marks is recorded', async () => {
    const stripped = edited(web(), (o) => {
      delete o.metadata.labels['app.kubernetes.io/instance'];
      delete o.metadata.annotations['argocd.argoproj.io/tracking-id'];
    });
    const o = await send(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: stripped, oldObject: web(), fieldManager: 'kubectl-label' }),
    );
    expectCaught(o, 'oidc:jane@example.com');
    expect(o.records[0].changes.map((c: any) => c.path).sort()).toEqual([
      '/metadata/annotations/argocd.argoproj.io~1tracking-id',
      '/metadata/labels/app.kubernetes.io~1instance',
    ]);
    expect(o.records[0].owner).toMatchObject({ tool: 'argocd', application: 'shop' });
  });

  it('as a dry run (Argo CD diff, kubectl --dry-run=server): judged the same way, denied, and never recorded', async () => {
    const stripped = edited(web(), (o) => {
      delete o.metadata.labels['app.kubernetes.io/instance'];
      delete o.metadata.annotations['argocd.argoproj.io/tracking-id'];
      newImage(o);
    });
    const o = await send(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: stripped,
        oldObject: web(),
        fieldManager: 'kubectl-edit',
        dryRun: true,
      }),
    );
    // A dry run is judged exactly like the real request, and leaves no record.
    expect(o.response.allowed).toBe(false);
    expect(o.records).toEqual([]);
  });
});

describe('a change hidden past what the diff will walk', () => {
  it('denies an edit at the end of a 260,000-item list instead of reading the unseen tail as unchanged', async () => {
    // An Argo CD-managed LoadBalancer Service whose allow-list is the last thing the diff visits.
    const padded = edited(object('service-prod-web'), (o) => {
      // 260,000 short entries: past the diff's 250,000-node budget, within the 7 MiB body cap.
      o.spec.loadBalancerSourceRanges = new Array(260_000).fill('::1/128');
    });
    const opened = edited(padded, (o) => {
      o.spec.loadBalancerSourceRanges[259_999] = '0.0.0.0/0';
    });
    const o = await send(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: opened, oldObject: padded, fieldManager: 'kubectl-edit' }),
    );
    expectCaught(o, 'oidc:jane@example.com');
    // The record says the change list is cut: the walk stopped before it could see everything.
    expect(o.records[0].changesOmitted).toBeGreaterThanOrEqual(1);
  });
});
