/**
 * What driftguard does through @kubernetes/client-node, against the real API server: Events on the
 * object (as `kubectl describe` and `kubectl get events` show them, aggregated per object, reason
 * and actor), and the Scale parent lookup of a parent driftguard never saw, with only the RBAC the
 * rendered manifests grant its service account. (`explain --kubeconfig` naming the webhook
 * candidates: webhook-attribution.test.ts.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  applyObjects,
  argocd,
  argoSync,
  describeE2e,
  eventually,
  getJson,
  installDriftguard,
  kubectl,
  kubectlOk,
  namespace,
  type Obj,
  type Session,
} from './support/harness.js';
import { deployment } from './support/objects.js';

const NS = 'prod-client';
const AUDIT_NS = 'audit-client';
const SA = 'system:serviceaccount:driftguard:driftguard';
/** The image field as denial messages name it: by the container's key (docs/keyed-paths.md). */
const IMAGE = '/spec/template/spec/containers[name=app]/image';

const denied = (who: string, field: string) =>
  `${who} was denied: may not change Deployment ${NS}/web (managed by Argo CD application shop): ${field} (policy argocd-prod)`;

describeE2e('driftguard as a client of the real API server', () => {
  let s: Session;
  let uid: string;

  async function driftguardEvents(ns: string): Promise<Obj[]> {
    return (await getJson('admin', ['events', '-n', ns])).items.filter((e: Obj) => e.source?.component === 'driftguard');
  }

  beforeAll(async () => {
    s = await installDriftguard();
    await namespace(NS);
    await namespace(AUDIT_NS);
    await argoSync(await argocd(), [deployment(NS, 'web'), deployment(AUDIT_NS, 'web')]);
    const plain = deployment(NS, 'plain');
    delete plain.metadata.annotations; // no tracking mark: no policy covers it
    await applyObjects('admin', [plain]);
    uid = (await getJson('admin', ['deployment', 'web', '-n', NS])).metadata.uid;
  });
  afterAll(async () => {
    await s?.dg.stop();
  });

  it('posts ManualEditDenied on the Deployment, one Event per actor with its count raised', async () => {
    for (const [who, tag] of [
      ['alice', '1'],
      ['alice', '2'],
      ['bob', '3'],
    ] as const)
      expect((await kubectl(who, ['set', 'image', 'deployment/web', '-n', NS, `app=registry.example.com/shop/web:${tag}`])).code).toBe(1);
    const events = await eventually('the Events to be sent and counted', async () => {
      const list = await driftguardEvents(NS);
      return list.length === 2 && list.some((e) => e.count === 2) ? list : undefined;
    });
    const byMessage = Object.fromEntries(events.map((e) => [e.message, e]));
    const alice = byMessage[denied('alice@example.com', IMAGE)]!;
    const bob = byMessage[denied('bob@example.com', IMAGE)]!;
    expect(alice).toMatchObject({
      type: 'Warning',
      reason: 'ManualEditDenied',
      action: 'Denied',
      count: 2,
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: NS, uid },
      reportingComponent: 'driftguard.io/driftguard',
    });
    expect(bob).toMatchObject({ reason: 'ManualEditDenied', count: 1, involvedObject: { uid } });
    // kubectl finds them on the object (describe selects by the involved object's uid).
    const describe = await kubectlOk('admin', ['describe', 'deployment', 'web', '-n', NS]);
    const eventLines = describe.slice(describe.indexOf('\nEvents:')).split('\n');
    expect(eventLines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^  Warning  ManualEditDenied +\\S+ \\(x2 over \\S+\\) +driftguard +${escape(denied('alice@example.com', IMAGE))}$`),
      ),
    );
    expect(eventLines).toContainEqual(
      expect.stringMatching(new RegExp(`^  Warning  ManualEditDenied +\\S+ +driftguard +${escape(denied('bob@example.com', IMAGE))}$`)),
    );
    const table = await kubectlOk('admin', ['get', 'events', '-n', NS, '--field-selector', 'reason=ManualEditDenied']);
    expect(table.trim().split('\n').slice(1)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`Warning +ManualEditDenied +deployment/web +${escape(denied('alice@example.com', IMAGE))}$`)),
      ]),
    );
    const metrics = await s.dg.metrics();
    expect(metrics).toMatch(/^driftguard_events_dropped_total\{reason="rejected"\} 0$/m);
  });

  it('posts DriftObserved for a change an audit policy let through', async () => {
    await kubectlOk('alice', ['set', 'env', 'deployment/web', '-n', AUDIT_NS, 'LOG_LEVEL=debug']);
    const [event] = await eventually('the DriftObserved Event', async () => {
      const list = await driftguardEvents(AUDIT_NS);
      return list.length > 0 ? list : undefined;
    });
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'DriftObserved',
      action: 'Admitted',
      count: 1,
      message: `alice@example.com drifted from Git: changed Deployment ${AUDIT_NS}/web (managed by Argo CD application shop): /spec/template/spec/containers[name=app]/env[name=LOG_LEVEL]/value (policy audit-shared, audited)`,
      involvedObject: { kind: 'Deployment', name: 'web', namespace: AUDIT_NS },
    });
    const table = await kubectlOk('admin', ['get', 'events', '-n', AUDIT_NS]);
    expect(table).toMatch(/Warning +DriftObserved +deployment\/web +alice@example\.com drifted from Git: /);
  });

  it('looks a Scale parent it never saw up with a GET, as its own service account with the rendered RBAC only', async () => {
    // Only the bindings of manifests/base/rbac.yaml name driftguard's service account: the ClusterRoleBinding and the report Lease's RoleBinding.
    const bindings = [...(await getJson('admin', ['clusterrolebindings'])).items, ...(await getJson('admin', ['rolebindings', '-A'])).items]
      .filter((b: Obj) =>
        (b.subjects ?? []).some((x: Obj) => x.kind === 'ServiceAccount' && x.namespace === 'driftguard' && x.name === 'driftguard'),
      )
      .map((b: Obj) => `${b.kind}/${b.metadata.name}`);
    expect(bindings.sort()).toEqual(['ClusterRoleBinding/driftguard', 'RoleBinding/driftguard-reports-lease']);
    const can = async (verb: string, what: string) =>
      (await kubectl('admin', ['auth', 'can-i', verb, what, '-n', NS, `--as=${SA}`])).stdout.trim();
    expect(await can('get', 'deployments.apps')).toBe('yes');
    expect(await can('list', 'deployments.apps')).toBe('no');
    expect(await can('get', 'configmaps')).toBe('no');

    // A fresh process has seen no write of either Deployment: the Scale's coverage needs the parent.
    await s.dg.stop();
    await s.dg.restart();
    const before = s.dg.records().length;
    const scale = await kubectl('alice', ['scale', 'deployment/web', '-n', NS, '--replicas=5']);
    expect(scale.code).toBe(1);
    expect(scale.stderr.trim()).toBe(
      `Error from server (Forbidden): admission webhook "validate.driftguard.io" denied the request: driftguard: policy argocd-prod: ` +
        `alice@example.com may not change deployments/scale ${NS}/web (managed by Argo CD application shop): /spec/replicas. ` +
        'Change Git instead: https://git.example.com/platform/apps',
    );
    // Unmanaged: the GET says so. Had the lookup failed, `unresolved: match` would have denied it.
    expect(await kubectlOk('alice', ['scale', 'deployment/plain', '-n', NS, '--replicas=3'])).toBe('deployment.apps/plain scaled\n');
    const denial = await eventually('the Scale denial record', async () =>
      s.dg
        .records()
        .slice(before)
        .find((r) => r.type === 'violation'),
    );
    expect(denial).toMatchObject({
      decision: 'denied',
      resource: { resource: 'deployments', subResource: 'scale', kind: 'Scale', name: 'web' },
      owner: { tool: 'argocd', application: 'shop' },
    });
    expect(s.dg.stderr()).not.toContain('parent lookup failed');
    // The Scale's Event goes on the Deployment.
    await eventually('the Scale denial Event', async () =>
      (await driftguardEvents(NS)).find((e) => e.message === denied('alice@example.com', '/spec/replicas') && e.involvedObject.uid === uid),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
