/**
 * The install manifests: rendered with the real `kubectl kustomize` (base + Secret from `driftguard
 * certs`, and the cert-manager overlay), every object validated against the Kubernetes schemas, the
 * settings the issue asks for pinned, and the rendered Secret, ConfigMap and caBundle proven to work
 * together by serving a review over TLS the way the API server would call it.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import https from 'node:https';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceNames } from '../../src/certs/generate.js';
import { buildProgram } from '../../src/cli/main.js';
import { OBSERVE_ENTRY_NAME, VALIDATING_NAME } from '../../src/install/webhooks.js';
import { DEFAULT_TIMEOUTS, startServer, type RunningServer } from '../../src/serve.js';
import { cli } from '../support/cli.js';
import { fixturePath, REPO, SAMPLE_POLICIES } from '../support/fixtures.js';
import { copyManifests, find, kustomize, type Obj } from '../support/kustomize.js';
import { validateObject } from '../support/kube-schema.js';

const NS = 'driftguard';
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

let plain: Obj[];
let certManager: Obj[];
let certsDir: string;

beforeAll(async () => {
  const copy = copyManifests();
  certsDir = path.join(copy.manifests, 'certs');
  const made = await cli(['certs', '--out', 'manifests/certs'], { cwd: copy.dir, now: new Date() });
  expect(made.code, made.stderr).toBe(0);
  [plain, certManager] = await Promise.all([kustomize(copy.manifests), kustomize(path.join(copy.manifests, 'overlays', 'cert-manager'))]);
});

const webhooksOf = (objects: Obj[]) => objects.filter((o) => o.kind.endsWith('WebhookConfiguration')).flatMap((c) => c.webhooks as Obj[]);

describe.each([
  ['kubectl apply -k manifests', () => plain],
  ['kubectl apply -k manifests/overlays/cert-manager', () => certManager],
])('%s', (_name, objects) => {
  it('renders only objects that are valid against the Kubernetes schemas (unknown fields included)', async () => {
    const problems: string[] = [];
    for (const o of objects()) for (const p of await validateObject(o)) problems.push(`${o.kind}/${o.metadata?.name}${p}`);
    expect(problems).toEqual([]);
    expect(objects().length).toBeGreaterThanOrEqual(12);
  });

  it('puts every namespaced object in the driftguard namespace and no cluster-scoped one in any', () => {
    for (const o of objects()) {
      if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NS);
    }
  });

  it('has everything the install needs', () => {
    const kinds = objects().map((o) => o.kind);
    for (const k of [
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'NetworkPolicy',
      'ConfigMap',
      'ValidatingWebhookConfiguration',
    ]) {
      expect(kinds).toContain(k);
    }
    expect(kinds.filter((k) => k === 'MutatingWebhookConfiguration')).toHaveLength(1);
  });

  it('calls the Service that exists, on the port it serves, for every webhook', () => {
    const svc = find(objects(), 'Service', 'driftguard');
    const deploy = find(objects(), 'Deployment', 'driftguard');
    const container = deploy.spec.template.spec.containers[0];
    for (const w of webhooksOf(objects())) {
      expect(w.clientConfig.service).toMatchObject({ name: svc.metadata.name, namespace: svc.metadata.namespace });
      const port = svc.spec.ports.find((p: Obj) => p.port === w.clientConfig.service.port);
      expect(port, w.name).toMatchObject({ name: 'https', port: 443 });
      expect(container.ports.map((p: Obj) => p.name)).toContain(port.targetPort);
    }
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(deploy.spec.template.metadata.labels[k]).toBe(v);
  });
});

describe('the validating webhook', () => {
  it('has the settings that keep the cluster writable and the dry runs working', () => {
    const config = find(plain, 'ValidatingWebhookConfiguration');
    expect(config.webhooks).toHaveLength(1);
    expect(config.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      sideEffects: 'NoneOnDryRun',
      admissionReviewVersions: ['v1', 'v1beta1'],
      matchPolicy: 'Equivalent',
      clientConfig: { service: { path: '/validate' } },
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NS] }] },
    });
  });

  it('covers every kind the sample policies name, and the scale subresource of each scalable one', () => {
    const rules = find(plain, 'ValidatingWebhookConfiguration').webhooks[0].rules as Obj[];
    const covered = (group: string, resource: string) => rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource));
    for (const r of ['deployments', 'deployments/scale', 'statefulsets', 'statefulsets/scale', 'daemonsets'])
      expect(covered('apps', r), r).toBe(true);
    for (const r of ['configmaps', 'secrets', 'services']) expect(covered('', r), r).toBe(true);
    for (const r of rules) expect(r.operations).toEqual(['CREATE', 'UPDATE', 'DELETE']);
    expect(rules.flatMap((r) => r.resources as string[]).filter((r) => r.endsWith('/status'))).toEqual([]);
    // Only the namespaces the sample policies cover are sent.
    const [condition] = find(plain, 'ValidatingWebhookConfiguration').webhooks[0].matchConditions as Obj[];
    for (const ns of ["startsWith('prod-')", "'prod-sandbox'", "startsWith('apps-')", "== 'staging'"])
      expect(condition?.expression).toContain(ns);
    // The kinds in policies/ come from their match.resources: none may be left without a rule.
    const policyText = readdirSync(SAMPLE_POLICIES)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => readFileSync(path.join(SAMPLE_POLICIES, f), 'utf8'))
      .join('\n');
    for (const kind of policyText.matchAll(/kinds: \[([^\]]+)\]/g)) {
      for (const k of kind[1]!.split(',').map((s) => s.trim().replace(/"/g, ''))) {
        const plural = `${k.toLowerCase()}s`;
        expect(
          rules.some((r) => r.resources.includes(plural)),
          `${k} has a webhook rule`,
        ).toBe(true);
      }
    }
  });
});

describe('the observer webhooks', () => {
  const sampleNames = [
    'cert-manager-webhook',
    'istio-sidecar-injector',
    'kyverno-resource-mutating-webhook-cfg',
    'linkerd-proxy-injector',
    'vpa-webhook-config',
    'aws-load-balancer-webhook',
    '1-custom',
  ];

  it('is one entry observer that sorts first among mutating webhook configurations, fails open, and is sent only creates and updates', () => {
    const configs = plain.filter((o) => o.kind === 'MutatingWebhookConfiguration');
    const names = configs.map((c) => c.metadata.name as string);
    // The exit observer is folded into the validating call (src/install/webhooks.ts).
    expect(names).toEqual([OBSERVE_ENTRY_NAME]);
    expect([...sampleNames, ...names].sort()[0]).toBe(OBSERVE_ENTRY_NAME);
    const entry = find(plain, 'MutatingWebhookConfiguration', OBSERVE_ENTRY_NAME).webhooks[0];
    expect(entry).toMatchObject({
      failurePolicy: 'Ignore',
      sideEffects: 'NoneOnDryRun',
      clientConfig: { service: { path: '/observe/entry' } },
    });
    expect(entry.reinvocationPolicy).not.toBe('IfNeeded');
    const validating = find(plain, 'ValidatingWebhookConfiguration').webhooks[0];
    // The same resources and namespaces as the validating webhook, without DELETE.
    expect(entry.rules).toEqual((validating.rules as Obj[]).map((r) => ({ ...r, operations: ['CREATE', 'UPDATE'] })));
    expect(entry.matchConditions).toEqual(validating.matchConditions);
    expect(entry.namespaceSelector).toEqual(validating.namespaceSelector);
  });
});

describe('the Deployment', () => {
  const deploy = () => find(plain, 'Deployment', 'driftguard');
  const container = () => deploy().spec.template.spec.containers[0];
  const arg = (name: string) => (container().args as string[]).find((a) => a.startsWith(`--${name}=`))?.split('=')[1];

  it('runs two replicas apart from each other, behind a PodDisruptionBudget', () => {
    const d = deploy();
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const anti = d.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    expect(anti.topologyKey).toBe('kubernetes.io/hostname');
    expect(anti.labelSelector.matchLabels).toEqual(d.spec.selector.matchLabels);
    const pdb = find(plain, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(d.spec.replicas);
    expect(pdb.spec.selector.matchLabels).toEqual(d.spec.selector.matchLabels);
  });

  it('runs `driftguard serve` in-cluster with records on stdout and TLS and policies from mounted volumes', () => {
    const c = container();
    expect(c.args[0]).toBe('serve');
    expect(c.args).toContain('--in-cluster');
    expect(arg('records')).toBe('-');
    const mounts: Obj = Object.fromEntries((c.volumeMounts as Obj[]).map((m) => [m.name, m]));
    const volumes: Obj = Object.fromEntries((deploy().spec.template.spec.volumes as Obj[]).map((v) => [v.name, v]));
    expect(arg('tls-cert')).toBe(`${mounts.tls.mountPath}/tls.crt`);
    expect(arg('tls-key')).toBe(`${mounts.tls.mountPath}/tls.key`);
    expect(volumes.tls.secret.secretName).toBe('driftguard-tls');
    expect(arg('policies')).toBe(mounts.policies.mountPath);
    // The ConfigMap mounted there holds the policies the base ships, one key per file.
    expect(Object.keys(find(plain, 'ConfigMap', volumes.policies.configMap.name).data).sort()).toEqual(
      readdirSync(path.join(REPO, 'manifests/base/policies'))
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
    for (const m of Object.values(mounts) as Obj[])
      expect(m.subPath, `${m.name}: a subPath mount never sees the kubelet's updates`).toBeUndefined();
    expect(find(plain, 'Secret', 'driftguard-tls').type).toBe('kubernetes.io/tls');
    expect(arg('port')).toBe(String(c.ports.find((p: Obj) => p.name === 'https').containerPort));
  });

  it('passes only flags that `driftguard serve` has', () => {
    const serve = buildProgram(
      { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, stdinKind: 'none', clock: () => new Date(), cwd: REPO },
      () => {},
    ).commands.find((c) => c.name() === 'serve')!;
    const known = new Set(serve.options.map((o) => o.long));
    for (const a of container().args.slice(1) as string[]) expect(known.has(a.split('=')[0]), a).toBe(true);
  });

  it('probes /readyz and /healthz over HTTPS', () => {
    const c = container();
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
  });

  it('meets the restricted Pod Security Standard with a read-only root filesystem and resources set', () => {
    const pod = deploy().spec.template.spec;
    const c = container();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.securityContext.privileged).toBeUndefined();
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toEqual(expect.any(String));
    expect(find(plain, 'Namespace', NS).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('pauses before SIGTERM and gives the drain time to finish before the kill', () => {
    const pauseSeconds = container().lifecycle.preStop.sleep.seconds as number;
    const graceMs = Number(arg('shutdown-grace'));
    expect(pauseSeconds).toBeGreaterThanOrEqual(3);
    expect(graceMs / 1000).toBeGreaterThanOrEqual(find(plain, 'ValidatingWebhookConfiguration').webhooks[0].timeoutSeconds);
    expect(deploy().spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(pauseSeconds + graceMs / 1000);
  });

  it('ships the image tag of this version', () => {
    const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
    expect(container().image).toBe(`driftguard:${version}`);
  });
});

describe('RBAC', () => {
  it('grants only get of the scalable covered kinds, list of webhook configurations, get/update/patch of its own two by name, create and patch of events, and get/list/create/patch of the report kinds', () => {
    const role = find(plain, 'ClusterRole', 'driftguard');
    const grants = (role.rules as Obj[]).flatMap((r) =>
      r.apiGroups.flatMap((g: string) =>
        r.resources.flatMap((res: string) =>
          (r.resourceNames ?? ['*']).flatMap((n: string) => r.verbs.map((v: string) => `${v} ${g || 'core'}/${res}/${n}`)),
        ),
      ),
    );
    const rules = find(plain, 'ValidatingWebhookConfiguration').webhooks[0].rules as Obj[];
    const scaleParents = rules.flatMap((r) =>
      (r.resources as string[])
        .filter((x) => x.endsWith('/scale'))
        .map((x) => `get ${r.apiGroups[0] || 'core'}/${x.slice(0, -'/scale'.length)}/*`),
    );
    expect(scaleParents.length).toBeGreaterThan(0);
    const own = [
      ['validatingwebhookconfigurations', VALIDATING_NAME],
      ['mutatingwebhookconfigurations', OBSERVE_ENTRY_NAME],
    ].flatMap(([res, name]) => ['get', 'update', 'patch'].map((v) => `${v} admissionregistration.k8s.io/${res}/${name}`));
    expect(grants.sort()).toEqual(
      [
        ...scaleParents,
        ...own,
        'list admissionregistration.k8s.io/mutatingwebhookconfigurations/*',
        'list admissionregistration.k8s.io/validatingwebhookconfigurations/*',
        'create core/events/*',
        'create events.k8s.io/events/*',
        'patch core/events/*',
        'patch events.k8s.io/events/*',
        ...[
          'openreports.io/reports',
          'openreports.io/clusterreports',
          'wgpolicyk8s.io/policyreports',
          'wgpolicyk8s.io/clusterpolicyreports',
        ].flatMap((r) => ['get', 'list', 'create', 'patch'].map((v) => `${v} ${r}/*`)),
      ].sort(),
    );
    const binding = find(plain, 'ClusterRoleBinding', 'driftguard');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: role.metadata.name });
    const sa = find(plain, 'ServiceAccount');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NS }]);
    expect(find(plain, 'Deployment').spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
  });

  it('grants the report writer its Lease in its own namespace only: create, and get/update of driftguard-reports by name', () => {
    const role = find(plain, 'Role', 'driftguard-reports-lease');
    expect(role.metadata.namespace).toBe(NS);
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['driftguard-reports'], verbs: ['get', 'update'] },
    ]);
    const binding = find(plain, 'RoleBinding', 'driftguard-reports-lease');
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'driftguard-reports-lease' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: find(plain, 'ServiceAccount').metadata.name, namespace: NS }]);
  });
});

describe('the NetworkPolicy', () => {
  it('lets the API server reach the webhook port and lets driftguard reach only the API server', () => {
    const np = find(plain, 'NetworkPolicy');
    const deploy = find(plain, 'Deployment');
    expect(np.spec.podSelector.matchLabels).toEqual(deploy.spec.selector.matchLabels);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([
      { ports: [{ protocol: 'TCP', port: deploy.spec.template.spec.containers[0].ports[0].containerPort }] },
    ]);
    expect(np.spec.egress.flatMap((e: Obj) => e.ports.map((p: Obj) => p.port)).sort()).toEqual([443, 6443]);
  });
});

describe('policies in the cluster', () => {
  const normalise = (text: string) => text.replace(/\$schema=(\.\.\/)+schema\//, '$schema=schema/');

  it('manifests/base/policies holds exactly policies/ (the kustomize copy may not drift from the source)', () => {
    const source = readdirSync(SAMPLE_POLICIES)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    const copy = readdirSync(path.join(REPO, 'manifests/base/policies')).sort();
    expect(copy, 'sync with: cp policies/*.yaml manifests/base/policies/').toEqual(source);
    for (const f of source) {
      expect(
        normalise(readFileSync(path.join(REPO, 'manifests/base/policies', f), 'utf8')),
        `manifests/base/policies/${f} differs from policies/${f}`,
      ).toBe(normalise(readFileSync(path.join(SAMPLE_POLICIES, f), 'utf8')));
    }
  });

  it('becomes a ConfigMap with one key per policy file, updated in place (no hash suffix)', () => {
    const cm = find(plain, 'ConfigMap', 'driftguard-policies');
    const source = readdirSync(SAMPLE_POLICIES)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
    expect(Object.keys(cm.data).sort()).toEqual(source);
    for (const f of source) expect(normalise(cm.data[f])).toBe(normalise(readFileSync(path.join(SAMPLE_POLICIES, f), 'utf8')));
  });
});

describe('manifests/base/webhooks.yaml', () => {
  it('is exactly what `driftguard manifests --policies policies` prints for the sample policies', async () => {
    const out = await cli(['manifests', '--policies', 'policies'], { cwd: REPO });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).not.toContain('warning');
    expect(
      readFileSync(path.join(REPO, 'manifests/base/webhooks.yaml'), 'utf8'),
      'regenerate: npm run build && node dist/cli.js manifests --policies policies > manifests/base/webhooks.yaml',
    ).toBe(out.stdout);
    // The default is policies/ too, so the file is what `driftguard manifests` alone prints.
    expect((await cli(['manifests'], { cwd: REPO })).stdout).toBe(out.stdout);
  });

  it('changes when the sample policies change: another namespace, another kind', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-manifests-'));
    for (const f of readdirSync(SAMPLE_POLICIES).filter((f) => /\.ya?ml$/.test(f)))
      writeFileSync(path.join(dir, f), readFileSync(path.join(SAMPLE_POLICIES, f), 'utf8'));
    writeFileSync(
      path.join(dir, 'ingress.yaml'),
      [
        'apiVersion: driftguard.io/v1alpha1',
        'kind: DriftPolicy',
        'metadata: {name: ingress-edge}',
        'spec:',
        '  match:',
        '    resources: [{apiGroups: [networking.k8s.io], kinds: [Ingress]}]',
        '    namespaces: [edge]',
        '  allow: [{preset: argocd}]',
        '',
      ].join('\n'),
    );
    const out = await cli(['manifests', '--policies', dir], { cwd: REPO });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).not.toBe(readFileSync(path.join(REPO, 'manifests/base/webhooks.yaml'), 'utf8'));
    expect(out.stdout).toContain('networking.k8s.io');
    expect(out.stdout).toContain("request.namespace == 'edge'");
  });
});

describe('the cert-manager overlay', () => {
  it('issues the serving certificate from a private CA and injects that CA into every webhook', () => {
    const cert = certManager.find((o) => o.kind === 'Certificate' && o.spec.secretName === 'driftguard-tls');
    expect(cert?.metadata.namespace).toBe(NS);
    if (cert === undefined) return;
    expect([...cert.spec.dnsNames].sort()).toEqual(serviceNames('driftguard', NS).sort());
    expect(cert.spec.privateKey.rotationPolicy).toBe('Always');
    const issuer = find(certManager, 'Issuer', cert.spec.issuerRef.name);
    const ca = certManager.find((o) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca.secretName)!;
    expect(ca.spec.isCA).toBe(true);
    const configs = certManager.filter((o) => o.kind.endsWith('WebhookConfiguration'));
    expect(configs).toHaveLength(2);
    for (const c of configs)
      expect(c.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(`${cert.metadata.namespace}/${cert.metadata.name}`);
    for (const w of webhooksOf(certManager)) expect(w.clientConfig.caBundle).toBeUndefined();
    expect(certManager.some((o) => o.kind === 'Secret')).toBe(false);
  });
});

describe('the validator itself', () => {
  it('rejects a misspelt field, a bad quantity and a wrong enum value', async () => {
    const deploy = structuredClone(find(plain, 'Deployment'));
    deploy.spec.template.spec.containers[0].readinesProbe = deploy.spec.template.spec.containers[0].readinessProbe;
    deploy.spec.template.spec.containers[0].resources.limits.memory = '256 megabytes';
    const webhook = structuredClone(find(plain, 'ValidatingWebhookConfiguration'));
    webhook.webhooks[0].failurePolicy = 'Fial';
    webhook.webhooks[0].clientConfig.caBundle = 'not*base64';
    const problems = [...(await validateObject(deploy)), ...(await validateObject(webhook))].join('\n');
    expect(problems).toContain('readinesProbe: unknown field');
    expect(problems).toContain('limits/memory');
    expect(problems).toContain('failurePolicy');
    expect(problems).toContain('caBundle');
    const cert = structuredClone(certManager.find((o) => o.kind === 'Certificate')!);
    cert.spec.duration = 90;
    expect((await validateObject(cert)).join('\n')).toContain('/spec/duration');
  });
});

describe('the rendered install, served', () => {
  let server: RunningServer | undefined;
  afterAll(async () => server?.shutdown());

  it('answers a review over TLS with the rendered Secret, ConfigMap and caBundle, under the name the API server uses', async () => {
    const dir = path.dirname(certsDir);
    const secret = find(plain, 'Secret', 'driftguard-tls');
    const tlsDir = path.join(dir, 'mounted-tls');
    const policiesDir = path.join(dir, 'mounted-policies');
    mkdirSync(tlsDir);
    mkdirSync(policiesDir);
    for (const [k, v] of Object.entries(secret.data as Record<string, string>))
      writeFileSync(path.join(tlsDir, k), Buffer.from(v, 'base64'));
    for (const [k, v] of Object.entries(find(plain, 'ConfigMap', 'driftguard-policies').data as Record<string, string>))
      writeFileSync(path.join(policiesDir, k), v);
    server = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        policies: [policiesDir],
        certDir: path.join(dir, 'unused'),
        tlsCert: path.join(tlsDir, 'tls.crt'),
        tlsKey: path.join(tlsDir, 'tls.key'),
        records: path.join(dir, 'records.jsonl'),
        service: 'driftguard',
        namespace: NS,
        timeouts: DEFAULT_TIMEOUTS,
        shutdownGraceMs: 1_000,
      },
      { logger: pino({ level: 'silent' }), clock: () => new Date('2026-11-24T12:00:00Z') },
    );
    const webhook = find(plain, 'ValidatingWebhookConfiguration').webhooks[0];
    const caBundle = Buffer.from(webhook.clientConfig.caBundle, 'base64').toString('utf8');
    expect(caBundle).toBe(readFileSync(path.join(certsDir, 'ca.crt'), 'utf8'));
    expect(new X509Certificate(readFileSync(path.join(tlsDir, 'tls.crt'))).verify(new X509Certificate(caBundle).publicKey)).toBe(true);
    const body = readFileSync(fixturePath('reviews', 'kubectl-edit-prod.json'), 'utf8');
    const uid = JSON.parse(body).request.uid as string;
    const { service } = webhook.clientConfig;
    const answer = await new Promise<{ status: number; json: any }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: server!.port,
          path: `${service.path}?timeout=5s`,
          method: 'POST',
          servername: `${service.name}.${service.namespace}.svc`,
          ca: caBundle,
          headers: { 'content-type': 'application/json', 'user-agent': 'kube-apiserver-admission' },
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(answer.status).toBe(200);
    expect(answer.json.response).toMatchObject({ uid, allowed: false, status: { code: 403 } });
  });
});
