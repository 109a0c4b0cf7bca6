/**
 * What the exit observer of earlier installs added that the validating call does not have: the
 * exit observer registered as such an install did (sorted last, reinvocationPolicy IfNeeded, the
 * route driftguard still answers), another mutating webhook between, and three writes: a person's
 * Deployment update the other webhook stamps, a Deployment created with generateName, and a
 * Service Argo CD creates. For each, the fields the exit record has and the final lacks, and the
 * reverse, are only those the API server sets between mutating and validating admission
 * (src/k8s/set-after-mutation.ts), and webhook attribution from entry and final alone is what it was
 * with the exit record (docs/api-server.md, "What the exit observer added").
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setAfterMutation } from '../../src/k8s/set-after-mutation.js';
import { pairStages, webhookPaths } from '../../src/ledger/pair.js';
import type { ChangeRecord } from '../../src/records/record.js';
import {
  applyObjects,
  argocd as argocdAccount,
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
import { STAMP_ANNOTATION, startStampWebhook, type StampWebhook } from './support/webhook.js';

const NS = 'audit-exit-fold';
const PROD = 'prod-exit-fold';
const EXIT = 'zzz-driftguard-observe-exit';

describeE2e('the exit observer folded into the validating call', () => {
  let s: Session;
  let stamp: StampWebhook;

  beforeAll(async () => {
    s = await installDriftguard();
    await namespace(NS);
    await namespace(PROD);
    stamp = await startStampWebhook('m-e2e-stamp-fold', 'stamp-fold.e2e.driftguard.io');
    await stamp.register(NS);
    // The exit observer as an earlier install registered it.
    const entry = await getJson('admin', ['mutatingwebhookconfiguration', '0-driftguard-observe-entry']);
    const hook = entry.webhooks[0];
    const ops = ['CREATE', 'UPDATE'];
    await applyObjects('admin', [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: EXIT },
        webhooks: [
          {
            ...hook,
            name: 'observe-exit.driftguard.io',
            clientConfig: { ...hook.clientConfig, url: String(hook.clientConfig.url).replace('/observe/entry', '/observe/exit') },
            rules: (hook.rules as Obj[]).map((r) => ({ ...r, operations: ops })),
            // This file's namespaces only: other files share the control plane.
            namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [NS, PROD] }] },
            reinvocationPolicy: 'IfNeeded',
          },
        ],
      },
    ]);
    const argocd = await argocdAccount();
    await argoSync(argocd, deployment(NS, 'web'));
    await eventually(
      'the exit observer to be called',
      async () => {
        await kubectlOk('alice', ['annotate', '--overwrite', 'deployment/web', '-n', NS, `probe=${Date.now()}`]);
        return s.dg.records().some((r) => r.type === 'change' && r.stage === 'exit' && r.resource.namespace === NS) ? true : undefined;
      },
      30_000,
    );
    await kubectlOk('alice', ['set', 'env', 'deployment/web', '-n', NS, 'LOG_LEVEL=debug']);
    const generated = deployment(NS, 'ignored');
    delete generated.metadata.name;
    generated.metadata.generateName = 'batch-';
    await kubectlOk('alice', ['create', '-f', '-'], { input: JSON.stringify(generated) });
    await argoSync(argocd, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: PROD, annotations: { 'argocd.argoproj.io/tracking-id': `shop:/Service:${PROD}/web` } },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await eventually(
      'the three writes to be recorded',
      async () => {
        const finals = s.dg.records().filter((r) => r.type === 'change' && r.stage === 'final');
        const has = (f: (r: Obj) => boolean) => finals.some(f);
        return has((r) => r.resource.resource === 'services' && r.resource.namespace === PROD) &&
          has((r) => r.fieldManager === 'kubectl-set' && r.resource.namespace === NS) &&
          has((r) => r.operation === 'CREATE' && String(r.resource.name).startsWith('batch-'))
          ? true
          : undefined;
      },
      20_000,
    );
  });
  afterAll(async () => {
    await kubectl('admin', ['delete', 'mutatingwebhookconfiguration', EXIT, '--ignore-not-found']);
    await stamp?.close();
    await s?.dg.stop();
  });

  it('differs from the validating call only in the fields the API server sets between them, and attributes alike', async () => {
    const records = s.dg.records().filter((r) => r.type === 'change' && [NS, PROD].includes(r.resource.namespace)) as ChangeRecord[];
    const { writes } = pairStages(
      records.filter((r) => r.stage === 'final'),
      records.filter((r) => r.stage !== 'final'),
    );
    const seen: string[] = [];
    for (const w of writes.filter((x) => x.exit !== undefined && x.entry !== undefined)) {
      const at = (r: ChangeRecord) => new Map(r.changes.map((c) => [c.path, JSON.stringify(c.new ?? null)]));
      const exit = at(w.exit!);
      const final = at(w.final);
      const differ = [...new Set([...exit.keys(), ...final.keys()])].filter((p) => exit.get(p) !== final.get(p));
      seen.push(`${w.final.operation} ${w.final.resource.resource} ${w.final.resource.name}: ${differ.join(', ') || '(none)'}`);
      for (const p of differ) expect(setAfterMutation(w.final.resource, p), `${w.final.resource.resource} ${p}`).toBe(true);
      expect([...webhookPaths(w.final, w.entry, undefined)].sort()).toEqual([...w.webhookPaths].sort());
    }
    console.log(`exit against final, per write:\n  ${seen.join('\n  ')}`);
    // The three writes of the scenario were all observed at exit: the comparison ran on each kind.
    expect(seen.some((l) => l.startsWith('UPDATE deployments web'))).toBe(true);
    expect(seen.some((l) => l.startsWith('CREATE deployments batch-'))).toBe(true);
    expect(seen.some((l) => l.startsWith('CREATE services web'))).toBe(true);
    // And the stamp is still the webhook's.
    const setEnv = writes.find((w) => w.final.actor.username === 'alice@example.com' && w.final.fieldManager === 'kubectl-set')!;
    expect([...setEnv.webhookPaths]).toContain(`/metadata/annotations/${STAMP_ANNOTATION.replace('/', '~1')}`);
  });
});
