/**
 * The webhook registration follows the policies, judged by a real kube-apiserver:
 * - a policy for Ingress and one for a custom resource (a CRD installed here) are reported as
 *   coverage gaps against the shipped registration (/readyz, the gauge, `policy lint --webhooks`)
 *   and their objects can be edited by a person; after `driftguard manifests --policies` the same
 *   edits are denied;
 * - a write in a namespace no policy covers never reaches driftguard (its call counters stay put);
 * - `serve --manage-webhooks` brings the registration in step after a policy reload with no
 *   restart, removes a kind with its last policy, and keeps the lockout exclusions, the caBundle
 *   and a hand edit of a field it does not own;
 * - a scripted day costs fewer webhook calls with the generated registration than with the six
 *   resources from every namespace the base shipped before (the figures are printed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from './cluster/controlplane.js';
import {
  applyObjects,
  argocd as argocdAccount,
  argoSync,
  callsOn,
  describeE2e,
  driftguardCli,
  E2E_POLICIES,
  eventually,
  flux as fluxAccount,
  getJson,
  httpsGet,
  install,
  kubectl,
  kubectlOk,
  namespace,
  renderInstall,
  startDriftguard,
  steady,
  waitForWebhooks,
  WEBHOOK_KINDS,
  shippedWebhooksAt,
  webhooksForPolicies,
  type Driftguard,
  type Obj,
  type ServiceAccount,
} from './support/harness.js';
import { configMap, deployment, fluxLabels } from './support/objects.js';

const ROUTES = ['/validate', '/observe/entry'] as const;
const GROUP = 'e2e.driftguard.io';

/** A small namespaced CRD with a scale subresource. */
const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { replicas: { type: 'integer' }, color: { type: 'string' } } },
              status: { type: 'object', properties: { replicas: { type: 'integer' } } },
            },
          },
        },
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
      },
    ],
  },
};

/** Ingress and Widget in edge-*: kinds the sample policies (and so the shipped registration) never name. */
const EDGE_POLICY = `apiVersion: driftguard.io/v1alpha1
kind: DriftPolicy
metadata:
  name: edge
spec:
  match:
    resources:
      - apiGroups: ["networking.k8s.io"]
        kinds: ["Ingress"]
      - apiGroups: ["${GROUP}"]
        kinds: ["Widget"]
    namespaces: ["edge-*"]
  allow:
    - preset: argocd
  message: "Edge routing changes through Git."
`;

/** The rules manifests/base/webhooks.yaml shipped before it followed the policies: six resources, every namespace. */
const LEGACY_RULES = [
  {
    apiGroups: ['apps'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    resources: ['deployments', 'deployments/scale', 'statefulsets', 'statefulsets/scale', 'daemonsets'],
    scope: 'Namespaced',
  },
  {
    apiGroups: [''],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    resources: ['configmaps', 'secrets', 'services'],
    scope: 'Namespaced',
  },
];

function ingress(ns: string, name: string): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns },
    spec: {
      rules: [
        {
          host: `${name}.example.com`,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] },
        },
      ],
    },
  };
}

function widget(ns: string, name: string): Obj {
  return { apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec: { replicas: 1, color: 'blue' } };
}

async function calls(dg: Driftguard): Promise<number[]> {
  const m = await dg.metrics();
  return ROUTES.map((r) => callsOn(m, r));
}

async function readyz(dg: Driftguard): Promise<string> {
  return httpsGet(`${dg.url}/readyz`, dg.caFile);
}

function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

function sumMetric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const liveValidating = () => getJson('admin', ['validatingwebhookconfiguration', 'driftguard']);

describeE2e('the webhook registration follows the policies', () => {
  let rendered: { objects: Obj[]; certDir: string };
  let argocd: ServiceAccount;
  let flux: ServiceAccount;
  let withEdge: string;
  const running: Driftguard[] = [];
  const start = async (opts: Parameters<typeof startDriftguard>[0]) => {
    const dg = await startDriftguard(opts);
    running.push(dg);
    return dg;
  };

  beforeAll(async () => {
    rendered = await renderInstall();
    // The base but its webhook configurations (each test registers its own): the namespace and the
    // RBAC driftguard reads and updates its registration with, whichever test runs first or alone.
    await applyObjects(
      'admin',
      rendered.objects.filter((o) => !WEBHOOK_KINDS.includes(o.kind)),
    );
    await applyObjects('admin', [WIDGET_CRD]);
    await kubectlOk('admin', ['wait', '--for=condition=Established', `crd/widgets.${GROUP}`, '--timeout=60s']);
    // The developers' `edit` role knows no custom resource: grant widgets like it grants the rest.
    await applyObjects('admin', [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'e2e-widgets-edit' },
        rules: [
          { apiGroups: [GROUP], resources: ['widgets', 'widgets/scale'], verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'e2e-widgets-edit' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'e2e-widgets-edit' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'e2e:developers' }],
      },
    ]);
    for (const ns of ['edge-a', 'team-x']) await namespace(ns);
    argocd = await argocdAccount();
    flux = await fluxAccount();
    withEdge = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-policies-'));
    for (const f of readdirSync(E2E_POLICIES)) writeFileSync(path.join(withEdge, f), readFileSync(path.join(E2E_POLICIES, f)));
    writeFileSync(path.join(withEdge, 'edge.yaml'), EDGE_POLICY);
    // What the tests edit, made by Argo CD. No registration in place sends Ingress or Widget yet.
    await kubectlOk(argocd, ['apply', '-f', '-'], {
      input: [ingress('edge-a', 'shop'), widget('edge-a', 'gear')].map((o) => JSON.stringify(o)).join('\n'),
    });
  });
  afterAll(async () => {
    for (const dg of running) await dg.stop();
  });

  it('before: the shipped registration never sends Ingress or Widget, and driftguard says so', async () => {
    const dg = await start({ policies: withEdge, certDir: rendered.certDir });
    await install(rendered, dg.port);
    await waitForWebhooks(dg);
    // The gap: in the log, the gauge and /readyz (still ready: the rest is protected).
    const body = await eventually('the coverage check', async () => {
      const b = await readyz(dg);
      return b.includes('gap') ? b : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${dg.stderr()}`);
    });
    expect(JSON.parse(body).status).toBe('ready');
    expect(body).toContain('networking.k8s.io/ingresses');
    expect(body).toContain(`${GROUP}/widgets`);
    expect(body).toContain('policy edge');
    expect(metric(await dg.metrics(), 'driftguard_policy_coverage_gaps')).toBeGreaterThanOrEqual(3);
    expect(dg.stderr()).toContain('policy coverage gap');
    // The same check offline, against the registration as a file.
    const file = path.join(withEdge, '..', `registration-${dg.port}.yaml`);
    writeFileSync(file, (await kubectlOk('admin', ['get', 'validatingwebhookconfiguration', 'driftguard', '-o', 'yaml'])).toString());
    const lint = await driftguardCli(['policy', 'lint', withEdge, '--webhooks', file]).catch((e: { stdout: string }) => e.stdout);
    expect(lint).toMatch(/edge\.yaml:\d+:\d+: warning DGL013: .*networking\.k8s\.io\/ingresses/);
    expect(lint).not.toMatch(/flux-apps.yaml:\d+:\d+: warning DGL013/);

    const before = await calls(dg);
    const edit = await kubectl('alice', ['annotate', 'ingress/shop', '-n', 'edge-a', 'owner=alice']);
    const editWidget = await kubectl('alice', [
      'patch',
      `widgets.${GROUP}/gear`,
      '-n',
      'edge-a',
      '--type=merge',
      '-p',
      '{"spec":{"color":"red"}}',
    ]);
    expect(edit.code, edit.stderr).toBe(0);
    expect(editWidget.code, editWidget.stderr).toBe(0);
    expect(await calls(dg)).toEqual(before);
    await dg.stop();
  });

  it('after `manifests --policies`: a person’s edits of the Ingress and the Widget are denied; a write in an uncovered namespace never reaches driftguard', async () => {
    const dg = await start({ policies: withEdge, certDir: rendered.certDir });
    const generated = await webhooksForPolicies(withEdge, rendered.certDir, dg.port);
    const rules = generated.find((o) => o.kind === 'ValidatingWebhookConfiguration')!.webhooks[0].rules as Obj[];
    // Discovery found the CRD's resource and its scale subresource; never a status rule.
    expect(rules).toContainEqual(expect.objectContaining({ apiGroups: [GROUP], resources: ['widgets', 'widgets/scale'] }));
    expect(rules).toContainEqual(expect.objectContaining({ apiGroups: ['networking.k8s.io'], resources: ['ingresses'] }));
    expect(rules.flatMap((r) => r.resources as string[]).filter((r) => r.endsWith('/status'))).toEqual([]);
    await applyObjects('admin', generated);
    await waitForWebhooks(dg);
    const gear = (await getJson('admin', [`widgets.${GROUP}`, 'gear', '-n', 'edge-a'])).spec;

    const denied = await eventually('the Ingress rule to take effect', async () => {
      const r = await kubectl('alice', ['annotate', '--overwrite', 'ingress/shop', '-n', 'edge-a', 'owner=alice-again']);
      return r.code === 1 ? r : undefined;
    });
    expect(denied.stderr).toMatch(/admission webhook "validate\.driftguard\.io" denied the request: .*Edge routing changes through Git/);
    const widgetEdit = await kubectl('alice', [
      'patch',
      `widgets.${GROUP}/gear`,
      '-n',
      'edge-a',
      '--type=merge',
      '-p',
      '{"spec":{"color":"green"}}',
    ]);
    expect(widgetEdit.code).toBe(1);
    expect(widgetEdit.stderr).toContain('denied the request');
    const widgetScale = await kubectl('alice', ['scale', `widgets.${GROUP}/gear`, '-n', 'edge-a', '--replicas=3']);
    expect(widgetScale.code).toBe(1);
    expect(widgetScale.stderr).toContain('denied the request');
    expect((await getJson('admin', [`widgets.${GROUP}`, 'gear', '-n', 'edge-a'])).spec).toEqual(gear);
    expect(gear.replicas).toBe(1);
    // Argo CD still syncs.
    await kubectlOk(argocd, ['annotate', '--overwrite', 'ingress/shop', '-n', 'edge-a', 'synced=yes']);

    // Restarted against this registration, the check finds no gap.
    await dg.stop();
    await dg.restart();
    await eventually('a clean coverage check', async () =>
      metric(await dg.metrics(), 'driftguard_policy_coverage_gaps') === 0 ? true : undefined,
    );
    expect(await readyz(dg)).toBe('{"status":"ready"}');

    // team-x is covered by no policy: nothing written there reaches any of the three webhooks.
    const before = await calls(dg);
    await kubectlOk('alice', ['create', 'configmap', 'settings', '-n', 'team-x', '--from-literal=a=1']);
    await kubectlOk('alice', ['apply', '-f', '-'], {
      input: [deployment('team-x', 'api'), ingress('team-x', 'api'), widget('team-x', 'cog')].map((o) => JSON.stringify(o)).join('\n'),
    });
    await kubectlOk('alice', ['scale', 'deployment/api', '-n', 'team-x', '--replicas=3']);
    await kubectlOk('alice', ['create', 'secret', 'generic', 'token', '-n', 'team-x', '--from-literal=t=x']);
    await kubectlOk('alice', ['delete', 'configmap', 'settings', '-n', 'team-x']);
    expect(await calls(dg)).toEqual(before);
    // ...while the same kind of write in a covered namespace does.
    await kubectl('alice', ['annotate', '--overwrite', 'ingress/shop', '-n', 'edge-a', 'owner=eve', '--dry-run=server']);
    const after = await calls(dg);
    expect(after[0]).toBeGreaterThan(before[0]!);
    await dg.stop();
  });

  it('with --manage-webhooks: follows a reload without a restart, drops a kind with its last policy, keeps the lockout exclusions, the caBundle and a hand edit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-managed-'));
    for (const f of readdirSync(E2E_POLICIES)) writeFileSync(path.join(dir, f), readFileSync(path.join(E2E_POLICIES, f)));
    // The shipped registration for a driftguard about to start on `port`, then a person's edits of
    // fields driftguard does not own.
    const port = await freePort();
    await applyObjects('admin', await shippedWebhooksAt(rendered.certDir, port));
    await kubectlOk('admin', ['label', '--overwrite', 'validatingwebhookconfiguration', 'driftguard', 'team=platform']);
    await kubectlOk('admin', [
      'patch',
      'mutatingwebhookconfiguration',
      '0-driftguard-observe-entry',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":1}]',
    ]);
    const caBefore = (await liveValidating()).webhooks[0].clientConfig.caBundle;
    const dg = await start({ policies: dir, certDir: rendered.certDir, extraArgs: ['--manage-webhooks'], port });
    const expected = async (policies: string) =>
      (await webhooksForPolicies(policies, rendered.certDir, port)).find((o) => o.kind === 'ValidatingWebhookConfiguration')!.webhooks[0];

    // The start brings the registration to the e2e policies; a reload (the file watch) to the next set.
    const sync = async (what: string, policies: string) => {
      const want = await expected(policies);
      await eventually(
        what,
        async () => {
          const live = (await liveValidating()).webhooks[0];
          expect([live.rules, live.matchConditions]).toEqual([want.rules, want.matchConditions]);
          return live;
        },
        30_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${dg.stderr()}`);
      });
    };
    await sync('the registration to follow the e2e policies', dir);
    writeFileSync(path.join(dir, 'edge.yaml'), EDGE_POLICY);
    await sync('the registration to follow the edge policy', dir);
    let live = await liveValidating();
    expect(live.webhooks[0].rules).toContainEqual(expect.objectContaining({ apiGroups: ['networking.k8s.io'], resources: ['ingresses'] }));
    expect(live.webhooks[0].rules).toContainEqual(expect.objectContaining({ apiGroups: [GROUP], resources: ['widgets', 'widgets/scale'] }));
    const denied = await eventually('the managed Ingress rule to take effect', async () => {
      const r = await kubectl('alice', ['annotate', '--overwrite', 'ingress/shop', '-n', 'edge-a', 'owner=carol']);
      return r.code === 1 ? r : undefined;
    });
    expect(denied.stderr).toContain('Edge routing changes through Git');
    expect(dg.stderr()).toContain('webhook registration updated to follow the policies');

    // The last policy for Ingress and Widget goes: so do their rules.
    rmSync(path.join(dir, 'edge.yaml'));
    await sync('the registration to drop Ingress and Widget', dir);
    live = await liveValidating();
    const resources = (live.webhooks[0].rules as Obj[]).flatMap((r) => r.resources as string[]);
    expect(resources).not.toContain('ingresses');
    expect(resources).not.toContain('widgets');
    await eventually('the Ingress to be editable again', async () =>
      (await kubectl('alice', ['annotate', '--overwrite', 'ingress/shop', '-n', 'edge-a', 'owner=dave'])).code === 0 ? true : undefined,
    );

    // What driftguard does not own survived every update.
    for (const kind of WEBHOOK_KINDS) {
      for (const name of kind === 'ValidatingWebhookConfiguration' ? ['driftguard'] : ['0-driftguard-observe-entry']) {
        const c = await getJson('admin', [kind, name]);
        expect(c.webhooks[0].namespaceSelector, name).toEqual({
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'driftguard'] }],
        });
        expect(c.webhooks[0].clientConfig.caBundle, name).toBe(caBefore);
      }
    }
    expect(live.metadata.labels.team).toBe('platform');
    expect((await getJson('admin', ['mutatingwebhookconfiguration', '0-driftguard-observe-entry'])).webhooks[0].timeoutSeconds).toBe(1);
    // Two updates (one per configuration) at each of the three changes of what the policies cover.
    expect(sumMetric(await dg.metrics(), 'driftguard_webhook_registration_updates_total')).toBe(6);
    await dg.stop();
  });

  it('a scripted day costs fewer webhook calls with the generated registration than with the one shipped before', async () => {
    const dg = await start({ policies: E2E_POLICIES, certDir: rendered.certDir });
    const generated = await webhooksForPolicies(E2E_POLICIES, rendered.certDir, dg.port);
    const legacy = generated.map((o) => {
      const c = structuredClone(o);
      for (const w of c.webhooks) {
        w.rules = structuredClone(LEGACY_RULES);
        delete w.matchConditions;
      }
      return c;
    });

    /** One day: GitOps syncs in prod-*, apps-*, staging; people's edits; a team namespace no policy covers. */
    const day = async (tag: string) => {
      const prod = `prod-day-${tag}`;
      const apps = `apps-day-${tag}`;
      const team = `team-day-${tag}`;
      for (const ns of [prod, apps, team]) await namespace(ns);
      const argo = (o: Obj) => argoSync(argocd, o);
      await argo(deployment(prod, 'web'));
      await argo(configMap(prod, 'web-config', { mode: 'blue' }));
      await argo(deployment(prod, 'web', { image: 'registry.example.com/shop/web:1.1.0' }));
      await argo(deployment('staging', `web-${tag}`));
      const fluxObj = (o: Obj) =>
        kubectlOk(flux, ['apply', '--server-side', '--force-conflicts', '--field-manager=kustomize-controller', '-f', '-'], {
          input: JSON.stringify(o),
        });
      await fluxObj(deployment(apps, 'api', { flux: 'apps' }));
      await fluxObj({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: apps, labels: fluxLabels('apps') },
        stringData: { url: 'postgres://db' },
      });
      // People: denied in prod, warned in staging.
      await kubectl('alice', ['set', 'image', 'deployment/web', '-n', prod, 'app=registry.example.com/shop/web:6.6.6']);
      await kubectl('alice', ['scale', 'deployment/web', '-n', prod, '--replicas=9']);
      await kubectl('bob', ['set', 'env', `deployment/web-${tag}`, '-n', 'staging', 'DEBUG=1']);
      // A team without GitOps: the bulk of the writes, covered by no policy.
      await kubectlOk('alice', ['apply', '-f', '-'], { input: JSON.stringify(deployment(team, 'worker')) });
      for (let i = 0; i < 4; i++) await kubectlOk('alice', ['create', 'configmap', `job-${i}`, '-n', team, `--from-literal=run=${i}`]);
      await kubectlOk('alice', ['scale', 'deployment/worker', '-n', team, '--replicas=3']);
      await kubectlOk('alice', ['set', 'env', 'deployment/worker', '-n', team, 'BATCH=2']);
      await kubectlOk('alice', ['create', 'secret', 'generic', 'api-key', '-n', team, '--from-literal=k=v']);
      await kubectlOk('alice', ['create', 'service', 'clusterip', 'worker', '-n', team, '--tcp=80:8080']);
      for (let i = 0; i < 4; i++) await kubectlOk('alice', ['delete', 'configmap', `job-${i}`, '-n', team]);
      // Objects the policies cover no kind of in prod: a Secret and a person's ConfigMap in default.
      await kubectlOk('admin', ['create', 'secret', 'generic', 'tls-extra', '-n', prod, '--from-literal=k=v']);
      await kubectlOk('admin', ['create', 'configmap', `notes-${tag}`, '-n', 'default', '--from-literal=a=b']);
    };

    const measure = async (registration: Obj[], tag: string, settle: () => Promise<void>) => {
      await applyObjects('admin', registration);
      await settle();
      const before = await calls(dg);
      await day(tag);
      // Let the controllers' follow-ups (a Deployment's status is a subresource no rule names) settle.
      const after = await steady('the webhook calls of the day', () => calls(dg));
      return Object.fromEntries(ROUTES.map((r, i) => [r, after[i]! - before[i]!])) as Record<(typeof ROUTES)[number], number>;
    };
    await namespace('staging');
    const probe = (ns: string) => kubectl('admin', ['create', 'configmap', 'driftguard-e2e-probe', '-n', ns, '--dry-run=server']);
    await namespace('team-probe');
    const legacyCalls = await measure(legacy, 'before', async () => {
      await eventually('the legacy registration to send every namespace', async () => {
        const c = await calls(dg);
        await probe('team-probe');
        return (await calls(dg)).every((n, i) => n > c[i]!) ? true : undefined;
      });
    });
    const generatedCalls = await measure(generated, 'after', async () => {
      await eventually('the generated registration to skip uncovered namespaces', async () => {
        // The calls a dry run makes are counted before kubectl has its answer: none came.
        const c = await calls(dg);
        await probe('team-probe');
        return (await calls(dg)).every((n, i) => n === c[i]!) ? true : undefined;
      });
      await waitForWebhooks(dg);
    });
    console.log(
      `e2e scripted day, webhook calls per route: before ${JSON.stringify(legacyCalls)}, after ${JSON.stringify(generatedCalls)}`,
    );
    for (const r of ROUTES) {
      expect(generatedCalls[r], r).toBeGreaterThan(0);
      expect(generatedCalls[r], r).toBeLessThan(legacyCalls[r]);
    }
    // The denials happened under both: nothing a policy covers was lost.
    expect(dg.records().filter((r) => r.decision === 'denied').length).toBeGreaterThanOrEqual(4);
  });
});
