/**
 * The benchmark's mix of reviews, built from the test fixtures the way the API server sends them
 * (docs/kubernetes.md), weighted like a GitOps cluster's day: mostly Argo CD updates of a
 * ~9 KB Deployment (and its server-side-diff dry runs), then scale requests, Flux, deletes,
 * creates, large ConfigMaps, and the people whose edits are denied or warned.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildReview, serviceAccount, user } from '../../dist/admission/build.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const object = (name) => JSON.parse(readFileSync(path.join(FIXTURES, 'objects', `${name}.json`), 'utf8'));
const review = (name) => JSON.parse(readFileSync(path.join(FIXTURES, 'reviews', `${name}.json`), 'utf8'));

function edited(obj, edit) {
  const copy = structuredClone(obj);
  edit(copy);
  if (copy.metadata?.resourceVersion) copy.metadata.resourceVersion = String(Number(copy.metadata.resourceVersion) + 1);
  return copy;
}

const argocd = () => serviceAccount('argocd', 'argocd-application-controller');
const kustomize = () => serviceAccount('flux-system', 'kustomize-controller');
const hpa = () => serviceAccount('kube-system', 'horizontal-pod-autoscaler');
const jane = () => user('oidc:jane@example.com', ['oidc:developers']);
const image = (tag) => (o) => {
  o.spec.template.spec.containers[0].image = `registry.example.com/shop/web:${tag}`;
};

/** A ConfigMap of about `kb` KB tracked by Argo CD (dashboards, rules files and the like). */
function bigConfigMap(kb) {
  const line = 'rule: alert if http_requests_total{status=~"5.."} rate over 5m exceeds 0.05 for 10m\n';
  const data = {};
  for (let i = 0; data && JSON.stringify(data).length < kb * 1024; i++) data[`rules-${i}.yaml`] = line.repeat(20);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'alert-rules',
      namespace: 'prod-shop',
      uid: '0b0f6a53-31c4-4d3e-8f57-5f4c6f0e9a11',
      resourceVersion: '90211',
      creationTimestamp: '2026-08-01T10:00:00Z',
      labels: { 'app.kubernetes.io/instance': 'shop' },
      annotations: { 'argocd.argoproj.io/tracking-id': 'shop:/ConfigMap:prod-shop/alert-rules' },
    },
    data,
  };
}

/** [name, weight, the review, whether driftguard should allow it]. */
export function mix() {
  const web = object('deployment-prod-web');
  const flux = object('deployment-flux-api');
  const staging = object('deployment-staging-web');
  const secret = object('secret-flux-db');
  const cm = object('configmap-generate-name');
  const big = bigConfigMap(100);
  const bigNext = edited(big, (o) => (o.data['rules-0.yaml'] = o.data['rules-0.yaml'].replace('0.05', '0.02')));
  const fresh = edited(web, (o) => {
    o.metadata.name = 'web-canary';
    delete o.metadata.uid;
    delete o.metadata.resourceVersion;
  });
  return [
    ['Argo CD update, Deployment 9 KB', 30, review('argocd-update-prod'), true],
    [
      'Argo CD server-side diff (dry run)',
      10,
      buildReview({
        operation: 'UPDATE',
        userInfo: argocd(),
        object: edited(web, image('1.43.0')),
        oldObject: web,
        fieldManager: 'argocd-controller',
        dryRun: true,
      }),
      true,
    ],
    ['kubectl edit by a person (denied)', 15, review('kubectl-edit-prod'), false],
    [
      'Flux update, Deployment 8 KB',
      8,
      buildReview({
        operation: 'UPDATE',
        userInfo: kustomize(),
        object: edited(flux, image('2.0.1')),
        oldObject: flux,
        fieldManager: 'kustomize-controller',
      }),
      true,
    ],
    [
      'kubectl edit in staging (warned)',
      4,
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(staging, image('1.44.0-rc1')),
        oldObject: staging,
        fieldManager: 'kubectl-edit',
      }),
      true,
    ],
    [
      'HPA scale',
      8,
      buildReview({
        operation: 'UPDATE',
        userInfo: hpa(),
        object: edited(web, (o) => (o.spec.replicas = 5)),
        oldObject: web,
        subResource: 'scale',
      }),
      true,
    ],
    [
      'kubectl scale by a person (denied)',
      3,
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        object: edited(web, (o) => (o.spec.replicas = 9)),
        oldObject: web,
        subResource: 'scale',
      }),
      false,
    ],
    ['Argo CD prune (DELETE)', 3, buildReview({ operation: 'DELETE', userInfo: argocd(), oldObject: web }), true],
    ['kubectl delete by a person (denied)', 2, buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web }), false],
    [
      'Argo CD create, ConfigMap 2 KB',
      4,
      buildReview({ operation: 'CREATE', userInfo: argocd(), object: cm, fieldManager: 'argocd-controller' }),
      true,
    ],
    [
      'kubectl create of a tracked Deployment (denied)',
      2,
      buildReview({ operation: 'CREATE', userInfo: jane(), object: fresh, fieldManager: 'kubectl-create' }),
      false,
    ],
    [
      'Argo CD update, ConfigMap 100 KB',
      5,
      buildReview({ operation: 'UPDATE', userInfo: argocd(), object: bigNext, oldObject: big, fieldManager: 'argocd-controller' }),
      true,
    ],
    [
      'kubectl edit, ConfigMap 100 KB (denied)',
      2,
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: bigNext, oldObject: big, fieldManager: 'kubectl-edit' }),
      false,
    ],
    [
      'Flux update, Secret',
      4,
      buildReview({
        operation: 'UPDATE',
        userInfo: kustomize(),
        object: edited(secret, (o) => (o.data.password = 'bmV3LXBhc3N3b3Jk')),
        oldObject: secret,
        fieldManager: 'kustomize-controller',
      }),
      true,
    ],
  ];
}

/**
 * Each review of the deck its own write, as on a cluster: an UPDATE or DELETE of its own stored
 * version (the resourceVersion, the same in object and oldObject), a CREATE of its own name. So no
 * two bodies are equal but for their uid, as the three calls of one write are (writeDeck in run.mjs).
 */
function distinct(request, n) {
  const version = String(500000 + n);
  for (const o of [request.object, request.oldObject]) if (o?.metadata?.resourceVersion !== undefined) o.metadata.resourceVersion = version;
  const meta = request.operation === 'CREATE' ? request.object?.metadata : undefined;
  if (meta?.name !== undefined) {
    meta.name = `${meta.name}-${n}`;
    if (request.name) request.name = meta.name;
  } else if (meta?.generateName !== undefined) meta.generateName = `${meta.generateName}${n}-`;
}

/**
 * A deck of `size` request bodies in the mix's proportions, each with its own uid (as every real
 * webhook call has), in a fixed shuffled order so runs are comparable.
 */
export function deck(size = 400, entries = mix()) {
  const total = entries.reduce((s, e) => s + e[1], 0);
  const bodies = [];
  let n = 0;
  for (const [name, weight, r] of entries) {
    const count = Math.max(1, Math.round((weight / total) * size));
    for (let i = 0; i < count; i++) {
      const { uid: _uid, ...request } = structuredClone(r.request);
      distinct(request, n);
      // Encoded as the API server encodes it (Go's struct order): kind, apiVersion, the request with its uid first.
      const uid = `bench-${String(n++).padStart(6, '0')}-${name.length}`;
      bodies.push({ name, body: JSON.stringify({ kind: 'AdmissionReview', apiVersion: r.apiVersion, request: { uid, ...request } }) });
    }
  }
  // Deterministic shuffle (LCG), so the same deck is sent in the same order every run.
  let seed = 42;
  for (let i = bodies.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [bodies[i], bodies[j]] = [bodies[j], bodies[i]];
  }
  return bodies;
}
