/**
 * The Helm chart (charts/driftguard) with a real helm (v4, built from the Go module proxy) against
 * the suite's real API server: lint, the default render against the kustomize base, a typo in
 * values refused, install and upgrade, a person's denied edit and an Argo CD write through the
 * chart's own webhook configurations (webhook.url pointed at a local `serve` with the chart's
 * certificate, policies and service account: no kubelet runs pods here), and an uninstall that leaves no webhook
 * configuration behind.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from './cluster/controlplane.js';
import { describeE2e, eventually, getJson, kubectl, kubectlOk, namespace, serviceAccount } from './support/cluster.js';
import { callsOn, renderInstall, startDriftguard, WEBHOOK_KINDS, type Driftguard, type Obj } from './support/driftguard.js';
import { CHART, helm, helmBinary, helmOk, template } from './support/helm.js';
import { waitForWebhooks } from './support/harness.js';
import { deployment } from './support/objects.js';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../support/fixtures.js';

const NS = 'driftguard-helm';
const WEBHOOKS = [
  ['validatingwebhookconfiguration', 'driftguard'],
  ['mutatingwebhookconfiguration', '0-driftguard-observe-entry'],
] as const;

/** Labels the chart puts on every object beside the base's (app.kubernetes.io/part-of). */
const HELM_LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];

const id = (o: Obj) => `${o.kind}/${o.metadata.name}`;
const b64 = (s: string) => s.replace(/\s/g, '');

describeE2e('the Helm chart', () => {
  beforeAll(async () => {
    await helmBinary();
  }, 40 * 60_000);

  it('passes helm lint --strict, in every certificate mode', async () => {
    for (const set of [
      [],
      ['--set', 'certs.mode=certManager', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true'],
      ['--set', 'certs.mode=provided', '--set', 'certs.provided.secretName=mine', '--set', 'certs.provided.caBundle=Q0E='],
    ]) {
      const r = await helm(['lint', '--strict', CHART, ...set]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('refuses a misspelt or unknown value (values.schema.json)', async () => {
    for (const [set, word] of [
      ['replicaCont=3', 'replicaCont'],
      ['certs.mod=provided', 'mod'],
      ['webhook.failurePolicy=Fial', '/webhook/failurePolicy'],
      ['logLevel=verbose', '/logLevel'],
    ] as const) {
      const r = await helm(['template', 'driftguard', CHART, '--set', set]);
      expect(r.code, set).not.toBe(0);
      expect(r.stderr, set).toMatch(/values don't meet the specifications of the schema/);
      expect(r.stderr, set).toContain(word);
    }
  });

  it('renders with defaults the objects of `kubectl kustomize manifests`, but for the differences that must exist', async () => {
    const { objects: base } = await renderInstall();
    const chart = await template();
    // Differences that must exist:
    // 1. The Namespace (with its pod-security labels) is helm's --create-namespace, not the chart's.
    const kustomized = base.filter((o) => o.kind !== 'Namespace');
    expect(base.filter((o) => o.kind === 'Namespace').map(id)).toEqual(['Namespace/driftguard']);
    expect(chart.map(id).sort()).toEqual(kustomized.map(id).sort());
    const secretOf = (objs: Obj[]) => objs.find((o) => o.kind === 'Secret')!;
    for (const c of chart) {
      const k = kustomized.find((o) => id(o) === id(c))!;
      const [cc, kc] = [structuredClone(c), structuredClone(k)];
      // 2. The certificate: `driftguard certs` made the base's, the chart made its own, with the
      //    same keys; every caBundle is its own Secret's ca.crt.
      if (c.kind === 'Secret') {
        expect(Object.keys(cc.data).sort()).toEqual(Object.keys(kc.data).sort());
        cc.data = kc.data = {};
        // The base's Secret comes from the top-level kustomization, outside the part-of label.
        expect(kc.metadata.labels).toBeUndefined();
        delete cc.metadata.labels['app.kubernetes.io/part-of'];
      }
      // 3. helm's own labels on every object, beside the base's.
      const extra = Object.keys(cc.metadata.labels ?? {}).filter((l) => !(l in (kc.metadata.labels ?? {})));
      expect(
        extra.filter((l) => !HELM_LABELS.includes(l)),
        id(c),
      ).toEqual([]);
      for (const l of extra) delete cc.metadata.labels[l];
      if (WEBHOOK_KINDS.includes(c.kind))
        for (const [objs, conf] of [
          [chart, cc],
          [kustomized, kc],
        ] as const)
          for (const w of conf.webhooks) {
            expect(b64(w.clientConfig.caBundle)).toBe(b64(secretOf(objs).data['ca.crt']));
            delete w.clientConfig.caBundle;
          }
      if (cc.metadata.labels !== undefined && Object.keys(cc.metadata.labels).length === 0) delete cc.metadata.labels;
      expect(cc, id(c)).toEqual(kc);
    }
  });

  it('with store.urlSecret, renders what manifests/overlays/postgres adds: the URL file, the spool, the egress', async () => {
    const overlay = parseAllDocuments(await kubectlOk('admin', ['kustomize', path.join(REPO, 'manifests/overlays/postgres')]))
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null);
    const chart = await template(['--set', 'store.urlSecret.name=driftguard-store', '--set', 'cluster=eu-1']);
    const pod = (objs: Obj[]) => objs.find((o) => o.kind === 'Deployment')!.spec.template.spec;
    const storeArgs = (objs: Obj[]) => (pod(objs).containers[0].args as string[]).filter((a) => a.startsWith('--store'));
    expect(storeArgs(chart)).toEqual(storeArgs(overlay));
    expect(pod(chart).containers[0].args).toContain('--cluster=eu-1');
    const named = (list: Obj[], names: string[]) => list.filter((v) => names.includes(v.name));
    expect(named(pod(chart).containers[0].volumeMounts, ['store', 'spool'])).toEqual(
      named(pod(overlay).containers[0].volumeMounts, ['store', 'spool']),
    );
    expect(named(pod(chart).volumes, ['store', 'spool'])).toEqual(named(pod(overlay).volumes, ['store', 'spool']));
    const egressPorts = (objs: Obj[]) =>
      objs
        .filter((o) => o.kind === 'NetworkPolicy')
        .flatMap((n) => (n.spec.egress ?? []).flatMap((e: Obj) => (e.ports ?? []).map((p: Obj) => p.port)));
    expect(egressPorts(overlay)).toContain(5432);
    expect(egressPorts(chart)).toContain(5432);
    // Without the Secret's name, no store flag, mount or port.
    const plain = await template();
    expect(storeArgs(plain)).toEqual([]);
    expect(egressPorts(plain)).not.toContain(5432);
    // A retention that serve would refuse is refused by the schema first.
    const bad = await helm(['template', 'driftguard', CHART, '--set', 'store.urlSecret.name=s', '--set', 'store.retention=12h']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('/store/retention');
  });

  it('renders the base\u2019s PrometheusRule and a ServiceMonitor when asked, and cert-manager\u2019s chain in that mode', async () => {
    const monitoring = parseAllDocuments(await kubectlOk('admin', ['kustomize', path.join(REPO, 'manifests/monitoring')]))
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null);
    const chart = await template([
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'certs.mode=certManager',
    ]);
    expect(chart.find((o) => o.kind === 'PrometheusRule')!.spec).toEqual(monitoring.find((o) => o.kind === 'PrometheusRule')!.spec);
    const sm = chart.find((o) => o.kind === 'ServiceMonitor')!;
    expect(sm.spec.endpoints[0]).toMatchObject({
      port: 'https',
      scheme: 'https',
      tlsConfig: { ca: { secret: { name: 'driftguard-tls', key: 'ca.crt' } } },
    });
    const service = chart.find((o) => o.kind === 'Service')!;
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(service.metadata.labels[k]).toBe(v);
    expect(
      chart
        .filter((o) => /cert-manager/.test(o.apiVersion))
        .map(id)
        .sort(),
    ).toEqual(['Certificate/driftguard-ca', 'Certificate/driftguard-tls', 'Issuer/driftguard-ca', 'Issuer/driftguard-selfsigned']);
    expect(chart.find((o) => o.kind === 'Secret')).toBeUndefined();
    for (const w of chart.filter((o) => WEBHOOK_KINDS.includes(o.kind))) {
      expect(w.metadata.annotations['cert-manager.io/inject-ca-from']).toBe('driftguard/driftguard-tls');
      expect(w.webhooks[0].clientConfig.caBundle).toBeUndefined();
    }
    // The serve flags a cluster needs, from values.
    const args = (
      await template([
        '--set',
        'events.enabled=false',
        '--set',
        'manageWebhooks=true',
        '--set',
        'metrics.port=9090',
        '--set',
        'notify.slack[0]=https://hooks.example.com/x',
        '--set',
        'records.file=/records/driftguard.jsonl',
        '--set',
        'extraArgs[0]=--capture-dry-runs',
      ])
    ).find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].args as string[];
    expect(args).toEqual(
      expect.arrayContaining([
        '--no-events',
        '--manage-webhooks',
        '--metrics-port=9090',
        '--notify-slack=https://hooks.example.com/x',
        '--records=/records/driftguard.jsonl',
        '--records-max-bytes=100Mi',
        '--records-max-files=5',
        '--capture-dry-runs',
      ]),
    );
    // observe=none: prevention only, the validating webhook alone and serve told so.
    const prevention = await template(['--set', 'observe=none']);
    expect(prevention.filter((o) => WEBHOOK_KINDS.includes(o.kind)).map(id)).toEqual(['ValidatingWebhookConfiguration/driftguard']);
    expect(prevention.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].args).toContain('--observe=none');
  });

  describeInstall();
});

function describeInstall(): void {
  let dg: Driftguard | undefined;
  let port = 0;

  /** Each of the chart's two configurations calls the local serve by URL, with the chart's CA. */
  async function expectWebhooksAt(port: number, ca: string): Promise<void> {
    const paths = ['/validate', '/observe/entry'];
    for (const [i, [kind, name]] of WEBHOOKS.entries()) {
      const live = await getJson('admin', [kind, name]);
      expect(live.webhooks[0].clientConfig.url).toBe(`https://127.0.0.1:${port}${paths[i]}`);
      expect(live.webhooks[0].clientConfig.service).toBeUndefined();
      expect(b64(live.webhooks[0].clientConfig.caBundle)).toBe(b64(ca));
    }
  }

  /** The chart's Secret and ConfigMap as the files the Deployment mounts. */
  async function mountedFiles(): Promise<{ certDir: string; policies: string }> {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-helm-'));
    const certDir = path.join(dir, 'tls');
    const policies = path.join(dir, 'policies');
    mkdirSync(certDir);
    mkdirSync(policies);
    const secret = await getJson('admin', ['secret', 'driftguard-tls', '-n', NS]);
    for (const [k, v] of Object.entries(secret.data as Record<string, string>))
      writeFileSync(path.join(certDir, k), Buffer.from(v, 'base64'));
    const cm = await getJson('admin', ['configmap', 'driftguard-policies', '-n', NS]);
    for (const [k, v] of Object.entries(cm.data as Record<string, string>)) writeFileSync(path.join(policies, k), v);
    return { certDir, policies };
  }

  beforeAll(async () => {
    // Earlier files registered driftguard with kubectl: helm adopts nothing it did not create.
    for (const [kind, name] of [...WEBHOOKS, ['clusterrole', 'driftguard'], ['clusterrolebinding', 'driftguard']])
      await kubectlOk('admin', ['delete', kind, name, '--ignore-not-found']);
  });
  afterAll(async () => {
    await dg?.stop();
    await helm(['uninstall', 'driftguard', '-n', NS]);
  });

  it('installs on the real API server, and the chart\u2019s webhooks deny a person\u2019s edit and let Argo CD write', async () => {
    // No kubelet runs the chart's pods here: the webhooks call a local serve by URL
    // (webhook.url) on loopback, which the generated certificate names (certs.generate.ipAddresses).
    port = await freePort();
    const out = await helmOk([
      'install',
      'driftguard',
      CHART,
      '-n',
      NS,
      '--create-namespace',
      '--set',
      `webhook.url=https://127.0.0.1:${port}`,
      '--set',
      'certs.generate.ipAddresses={127.0.0.1}',
    ]);
    expect(out).toMatch(/STATUS: deployed/);
    expect((await getJson('admin', ['deployment', 'driftguard', '-n', NS])).spec.replicas).toBe(2);
    const { certDir, policies } = await mountedFiles();
    await expectWebhooksAt(port, (await getJson('admin', ['secret', 'driftguard-tls', '-n', NS])).data['ca.crt']);
    // As the chart's service account, with the chart's RBAC.
    const sa = await serviceAccount(NS, 'driftguard');
    dg = await startDriftguard({ policies, certDir, port, withCluster: false, extraArgs: ['--kubeconfig', sa.kubeconfig] });
    await waitForWebhooks(dg);

    await namespace('prod-helm');
    const argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    const before = callsOn(await dg.metrics(), '/validate');
    await kubectlOk(argocd, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(deployment('prod-helm', 'web', { app: 'shop' })),
    });
    expect(callsOn(await dg.metrics(), '/validate')).toBeGreaterThan(before);
    const scaled = await kubectl('alice', ['scale', 'deployment/web', '-n', 'prod-helm', '--replicas=5']);
    expect(scaled.code).toBe(1);
    expect(scaled.stderr).toMatch(/admission webhook "validate\.driftguard\.io" denied the request: /);
    expect((await getJson('admin', ['deployment', 'web', '-n', 'prod-helm'])).spec.replicas).toBe(2);
    const denial = await eventually('the denial record', async () =>
      dg!.records().find((r) => r.decision === 'denied' && r.resource?.namespace === 'prod-helm'),
    );
    expect(denial.actor?.username ?? denial.user?.username).toBe('alice@example.com');
  });

  it('upgrades in place, keeping the CA every caBundle trusts', async () => {
    const caBefore = (await getJson('admin', ['secret', 'driftguard-tls', '-n', NS])).data['ca.crt'];
    const out = await helmOk([
      'upgrade',
      'driftguard',
      CHART,
      '-n',
      NS,
      '--reuse-values',
      '--set',
      'replicaCount=3',
      '--set',
      'webhook.timeoutSeconds=4',
    ]);
    expect(out).toMatch(/REVISION: 2/);
    expect((await getJson('admin', ['deployment', 'driftguard', '-n', NS])).spec.replicas).toBe(3);
    expect((await getJson('admin', ['secret', 'driftguard-tls', '-n', NS])).data['ca.crt']).toBe(caBefore);
    const validating = await getJson('admin', ['validatingwebhookconfiguration', 'driftguard']);
    expect(validating.webhooks[0].timeoutSeconds).toBe(4);
    await expectWebhooksAt(port, caBefore);
    // The same serve, with the certificate it read at install: still the one the kept CA signed.
    await waitForWebhooks(dg!);
    const scaled = await kubectl('alice', ['scale', 'deployment/web', '-n', 'prod-helm', '--replicas=6']);
    expect(scaled.code).toBe(1);
    expect(scaled.stderr).toContain('denied the request');
  });

  it('uninstalls without leaving a webhook configuration behind (no lockout)', async () => {
    await helmOk(['uninstall', 'driftguard', '-n', NS]);
    for (const [kind, name] of WEBHOOKS) {
      const r = await kubectl('admin', ['get', kind, name]);
      expect(r.code, `${kind}/${name}`).toBe(1);
      expect(r.stderr).toContain('NotFound');
    }
    const left = await kubectlOk('admin', ['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '-o', 'name']);
    expect(left).not.toMatch(/driftguard/);
    // With driftguard stopped, a person's edit goes through: nothing calls it any more.
    await dg!.stop();
    await kubectlOk('alice', ['scale', 'deployment/web', '-n', 'prod-helm', '--replicas=4']);
    expect((await getJson('admin', ['deployment', 'web', '-n', 'prod-helm'])).spec.replicas).toBe(4);
  });
}
