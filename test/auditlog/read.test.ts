/**
 * The API server's audit log as a records source: explain and history over audit log files
 * (written into the test's temp dir, rotated and gzipped as the API server leaves them), merged
 * with the webhooks' records, and every kind of bad input reported by file:line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import type { KubeObject } from '../../src/k8s/admission.js';
import { diff } from '../../src/engine/diff.js';
import { NEVER_DRIFT } from '../../src/k8s/never-drift.js';
import { changeRecord } from '../../src/records/builders.js';
import { auditEvent, jsonLines } from '../support/audit-events.js';
import { cli } from '../support/cli.js';
import { object } from '../support/fixtures.js';
import { argocdController, hpa, jane, oncallBob } from '../support/identities.js';

const NOW = new Date('2026-11-24T13:00:00Z');

function dir(): string {
  return mkdtempSync(path.join(tmpdir(), 'dg-auditlog-'));
}

/** The Deployment as persisted at resourceVersion `rv`, with `edit` applied. */
function web(rv: number, edit: (o: any) => void = () => {}): KubeObject {
  const o = structuredClone(object('deployment-prod-web')) as any;
  o.metadata.resourceVersion = String(rv);
  edit(o);
  return o;
}

function scale(rv: number, replicas: number): Record<string, unknown> {
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'web', namespace: 'prod-shop', resourceVersion: String(rv) },
    spec: { replicas },
    status: { replicas: 3 },
  };
}

const t = (s: number): string => new Date(Date.parse('2026-11-24T12:00:00Z') + s * 1000).toISOString().replace('Z', '123Z');

/** A day of one Deployment, as its audit log shows it. */
function day(): Record<string, unknown>[] {
  return [
    auditEvent({
      verb: 'create',
      user: argocdController(),
      object: web(100, (o) => (o.metadata.labels['team'] = 'shop')),
      time: t(0),
      auditID: 'a-create',
      fieldManager: 'argocd-controller',
      webhookPatches: [['team-labels', 'labels.example.com', [{ op: 'add', path: '/metadata/labels/team', value: 'shop' }]]],
    }),
    auditEvent({ verb: 'get', user: jane(), object: web(100), time: t(5), auditID: 'a-get' }),
    // The HPA scales through the scale subresource.
    auditEvent({ verb: 'update', user: hpa(), object: scale(101, 5), time: t(10), auditID: 'a-hpa', subresource: 'scale' }),
    // A person's edit that the validating webhook denied: 403, never a change.
    auditEvent({
      verb: 'patch',
      user: jane(),
      object: web(101, (o) => (o.spec.replicas = 9)),
      code: 403,
      time: t(20),
      auditID: 'a-denied',
    }),
    // A conflict: 409, never a change.
    auditEvent({
      verb: 'update',
      user: oncallBob(),
      object: web(101, (o) => (o.spec.replicas = 7)),
      code: 409,
      time: t(25),
      auditID: 'a-conflict',
    }),
    // Break-glass: the on-call engineer sets the image.
    auditEvent({
      verb: 'patch',
      user: oncallBob(),
      object: web(102, (o) => {
        o.spec.replicas = 5;
        o.metadata.labels['team'] = 'shop';
        o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:1.42.1-hotfix';
      }),
      requestObject: {
        spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/shop/web:1.42.1-hotfix' }] } } },
      },
      time: t(30),
      auditID: 'a-breakglass',
      fieldManager: 'kubectl-patch',
    }),
  ];
}

describe('explain from the audit log alone', () => {
  it('attributes each persisted field: GitOps create, a webhook patch, the HPA through scale, a person; failures are no change', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    writeFileSync(log, jsonLines(day()));
    const r = await cli(['explain', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '--all', '-o', 'json'], { now: NOW });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const x = JSON.parse(r.stdout);
    const field = (p: string) => x.fields.find((f: any) => f.path === p);
    // 3 writes: the create, the scale, the break-glass patch; the 403 and the 409 are none.
    expect(x.writes).toBe(3);
    expect(field('/spec/replicas')).toMatchObject({
      value: 5,
      lastWriter: { username: hpa().username, actorClass: 'controller' },
      drift: true,
    });
    expect(field('/spec/replicas').gitops).toMatchObject({ value: 3, username: argocdController().username });
    expect(field('/spec/template/spec/containers[name=web]/image')).toMatchObject({
      value: 'registry.example.com/shop/web:1.42.1-hotfix',
      lastWriter: { username: oncallBob().username, actorClass: 'person', fieldManager: 'kubectl-patch' },
      drift: true,
    });
    expect(field('/metadata/labels/team')).toMatchObject({
      setByWebhook: true,
      lastWriter: {
        kind: 'webhook',
        actorClass: 'webhook',
        webhooks: [{ configuration: 'team-labels', webhook: 'labels.example.com' }],
        requestedBy: expect.objectContaining({ username: argocdController().username }),
      },
    });
    expect(x.stats.audit).toEqual({ writes: 3, disagreements: [] });
    // In a table, the webhook is named.
    const table = await cli(['explain', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '--all'], { now: NOW });
    expect(table.stdout).toMatch(/\/metadata\/labels\/team\s+shop\s+mutating webhook team-labels\/labels\.example\.com/);
  });

  it('history lists the persisted writes, newest first, and none of the failed requests', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    writeFileSync(log, jsonLines(day()));
    const r = await cli(['history', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '-o', 'json'], { now: NOW });
    expect(r.code).toBe(0);
    const h = JSON.parse(r.stdout);
    const entries = h.entries ?? h;
    expect(entries.map((e: any) => e.uid)).toEqual(['a-breakglass', 'a-hpa', 'a-create']);
  });

  it('a DELETE and a re-CREATE: the new object starts afresh', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    const events = [
      ...day(),
      auditEvent({
        verb: 'delete',
        user: jane(),
        object: { kind: 'Status', apiVersion: 'v1', status: 'Success' },
        time: t(40),
        auditID: 'a-delete',
      }),
      auditEvent({
        // Argo CD's server-side apply of an object that is gone: verb patch, answered 201 Created.
        verb: 'patch',
        code: 201,
        user: argocdController(),
        object: web(200, (o) => (o.metadata.uid = 'new-uid')),
        time: t(50),
        auditID: 'a-recreate',
      }),
    ];
    writeFileSync(log, jsonLines(events));
    const r = await cli(['explain', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '-o', 'json'], { now: NOW });
    const x = JSON.parse(r.stdout);
    expect(x.created).toMatchObject({ by: argocdController().username, actorClass: 'gitops' });
    // Only GitOps wrote the new object: nothing has drifted.
    expect(x.fields).toEqual([]);
    const until = await cli(['explain', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '--until', t(45), '-o', 'json'], { now: NOW });
    expect(JSON.parse(until.stdout).deleted).toMatchObject({ by: jane().username, actorClass: 'person' });
  });

  it('reads rotated and gzipped files in write order, and several API servers as one timeline', async () => {
    const d = dir();
    const [create, get, scaleUp, , , patch] = day();
    // The API server's backups: audit-<time>.log, gzipped with --audit-log-compress.
    writeFileSync(path.join(d, 'audit-2026-11-24T12-00-05.000.log.gz'), gzipSync(jsonLines([create!, get!])));
    writeFileSync(path.join(d, 'audit.log'), jsonLines([patch!]));
    // A second API server's log holds the scale, between the two.
    const other = path.join(d, 'apiserver-2.log');
    writeFileSync(other, jsonLines([scaleUp!]));
    const r = await cli(['history', 'deploy/web', '-n', 'prod-shop', '--audit-log', path.join(d, 'audit.log'), other, '-o', 'json'], {
      now: NOW,
    });
    expect(r.stderr).toBe('');
    const entries = JSON.parse(r.stdout).entries ?? JSON.parse(r.stdout);
    expect(entries.map((e: any) => e.uid)).toEqual(['a-breakglass', 'a-hpa', 'a-create']);
    // The scale was diffed against the create (5 from 3), the patch against the scale.
    const hpaEntry = entries.find((e: any) => e.uid === 'a-hpa');
    expect(hpaEntry.changes).toEqual([expect.objectContaining({ path: '/spec/replicas', op: 'replace', old: 3, new: 5 })]);
  });

  it('a patch of an object no earlier event showed: the fields it names, list items by key', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    writeFileSync(log, jsonLines([day()[5]!]));
    const r = await cli(['explain', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '-o', 'json'], { now: NOW });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).fields).toEqual([
      expect.objectContaining({
        path: '/spec/template/spec/containers[name=web]/image',
        pointer: '/spec/template/spec/containers/0/image',
        value: 'registry.example.com/shop/web:1.42.1-hotfix',
        lastWriter: expect.objectContaining({ username: oncallBob().username }),
      }),
    ]);
  });

  it('never writes a Secret value, even when the audit policy logs Secret bodies', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    const secret = (rv: number, password: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'db',
        namespace: 'prod-shop',
        resourceVersion: String(rv),
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"password":"${password}"}}` },
      },
      data: { password },
    });
    writeFileSync(
      log,
      jsonLines([
        auditEvent({
          verb: 'create',
          user: argocdController(),
          resource: 'secrets',
          group: '',
          object: secret(1, 'aHVudGVyMg=='),
          time: t(0),
          auditID: 's1',
        }),
        auditEvent({
          verb: 'update',
          user: jane(),
          resource: 'secrets',
          group: '',
          object: secret(2, 'c3dvcmRmaXNo'),
          time: t(10),
          auditID: 's2',
        }),
      ]),
    );
    const r = await cli(['explain', 'secret/db', '-n', 'prod-shop', '--audit-log', log, '--all', '-o', 'json'], { now: NOW });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/aHVudGVyMg|c3dvcmRmaXNo|sha256/);
    const x = JSON.parse(r.stdout);
    // The change is seen (jane changed the password), its value is not.
    expect(x.fields.find((f: any) => f.path === '/data/password')).toMatchObject({
      value: '[REDACTED]',
      lastWriter: { username: jane().username },
    });
    const h = await cli(['history', 'secret/db', '-n', 'prod-shop', '--audit-log', log, '-o', 'json'], { now: NOW });
    expect(h.stdout).not.toMatch(/aHVudGVyMg|c3dvcmRmaXNo/);
  });
});

describe('cluster-scoped objects from the audit log', () => {
  const clusterRole = (rv: number, verbs: string[]) => ({
    kind: 'ClusterRole',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { name: 'shop-reader', resourceVersion: String(rv) },
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs }],
  });
  const rbac = { resource: 'clusterroles', group: 'rbac.authorization.k8s.io', clusterScoped: true, name: 'shop-reader' };

  it('a ClusterRole (no namespace anywhere): its writes, not those of a namespaced object of the same name', async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    const role = {
      ...clusterRole(1, ['get']),
      kind: 'Role',
      metadata: { name: 'shop-reader', namespace: 'prod-shop', resourceVersion: '2' },
    };
    writeFileSync(
      log,
      jsonLines([
        auditEvent({ verb: 'create', user: argocdController(), object: clusterRole(1, ['get']), time: t(0), auditID: 'c1', ...rbac }),
        // A Role of the same name in a namespace: another object.
        auditEvent({ verb: 'create', user: jane(), object: role, time: t(5), auditID: 'r1', resource: 'roles', group: rbac.group }),
        auditEvent({ verb: 'update', user: jane(), object: clusterRole(3, ['get', 'list']), time: t(10), auditID: 'c2', ...rbac }),
      ]),
    );
    const r = await cli(['history', 'clusterrole/shop-reader', '--audit-log', log, '-o', 'json'], { now: NOW });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const entries = JSON.parse(r.stdout).entries;
    expect(entries.map((e: any) => [e.uid, e.operation, e.actor.username])).toEqual([
      ['c2', 'UPDATE', jane().username],
      ['c1', 'CREATE', argocdController().username],
    ]);
    expect(entries[0].changes).toEqual([expect.objectContaining({ path: '/rules/0/verbs/1', new: 'list' })]);
  });

  it("a Namespace, whose own updates' objectRef names it as their namespace (as the API server parses the URI)", async () => {
    const d = dir();
    const log = path.join(d, 'audit.log');
    const ns = (rv: number, team: string) => ({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'prod-shop', resourceVersion: String(rv), labels: { team } },
      spec: { finalizers: ['kubernetes'] },
    });
    const nsEvent = { resource: 'namespaces', group: '', clusterScoped: true, name: 'prod-shop' };
    const events = [
      auditEvent({ verb: 'create', user: argocdController(), object: ns(1, 'shop'), time: t(0), auditID: 'n1', ...nsEvent }),
      // The Deployments in it name it too (their namespace), and are not its writes.
      ...day(),
      auditEvent({ verb: 'patch', user: jane(), object: ns(200, 'payments'), time: t(60), auditID: 'n2', ...nsEvent }),
    ];
    expect((events.at(-1) as any).objectRef.namespace).toBe('prod-shop');
    writeFileSync(log, jsonLines(events));
    const r = await cli(['explain', 'namespace/prod-shop', '--audit-log', log, '-o', 'json'], { now: NOW });
    expect(r.code, r.stderr).toBe(0);
    const x = JSON.parse(r.stdout);
    expect(x.writes).toBe(2);
    expect(x.fields).toEqual([
      expect.objectContaining({
        path: '/metadata/labels/team',
        value: 'payments',
        lastWriter: expect.objectContaining({ username: jane().username }),
      }),
    ]);
  });
});

describe('bad input in an audit log', () => {
  it('reports a truncated line, a v1beta1 event, an unknown kind, a 50 MB line and a gzip that ends early by file:line, and reads the rest', async () => {
    const d = dir();
    const [create, , scaleUp, , , patch] = day();
    const log = path.join(d, 'audit.log');
    const cut = JSON.stringify(patch).slice(0, 200);
    const beta = { ...create!, apiVersion: 'audit.k8s.io/v1beta1', auditID: 'beta' };
    const unknown = auditEvent({
      verb: 'update',
      user: jane(),
      resource: 'widgets',
      group: 'example.com',
      time: t(12),
      auditID: 'w',
      name: 'web',
      level: 'Metadata',
    });
    const huge = JSON.stringify({ ...scaleUp!, padding: 'x'.repeat(50 * 1024 * 1024) });
    writeFileSync(
      log,
      [JSON.stringify(create), cut, JSON.stringify(beta), JSON.stringify(unknown), huge, JSON.stringify(scaleUp)].join('\n') + '\n',
    );
    // The newest rotation, gzipped, cut short in the middle of its stream.
    const whole = gzipSync(jsonLines([patch!, patch!, patch!]));
    const gz = path.join(d, 'more.log.gz');
    writeFileSync(gz, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const r = await cli(['history', 'deploy/web', '-n', 'prod-shop', '--audit-log', log, '--audit-log', gz, '-o', 'json'], { now: NOW });
    expect(r.stderr).toContain(`warning: audit log ${log}:2: a truncated line`);
    expect(r.stderr).toContain(`warning: audit log ${log}:3: audit event of audit.k8s.io/v1beta1: only audit.k8s.io/v1 is read`);
    // The unknown kind is not the target's resource (widgets), so asked about it:
    expect(r.stderr).toContain(`warning: audit log ${log}:5: a line over 16 MiB: skipped`);
    expect(r.stderr).toMatch(
      new RegExp(`warning: audit log ${gz.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: the gzip stream ends early`),
    );
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout).entries ?? JSON.parse(r.stdout);
    // The create and the scale from the first file were read around the bad lines.
    expect(entries.map((e: any) => e.uid)).toEqual(expect.arrayContaining(['a-create', 'a-hpa']));

    const w = await cli(['history', 'widgets.example.com/web', '-n', 'prod-shop', '--audit-log', log], { now: NOW });
    expect(w.stderr).toContain(`warning: audit log ${log}:4: an event for an unknown kind: widgets.example.com is not a built-in resource`);
  }, 60_000);
});

describe('both sources: where they disagree', () => {
  /** The validating webhook's final record of an UPDATE that would store `next`. */
  function finalRecord(who: ReturnType<typeof jane>, from: KubeObject, next: KubeObject, atIso: string, uid: string) {
    const review = buildReview({ operation: 'UPDATE', userInfo: who, fieldManager: 'kubectl-patch', oldObject: from, object: next });
    review.request.uid = uid;
    const { changes } = diff(from, next, { ignore: NEVER_DRIFT });
    return changeRecord({
      request: review.request,
      stage: 'final',
      changes,
      truncated: false,
      actorClass: 'person',
      time: new Date(atIso),
    });
  }

  it('names a persisted write no observer saw and an admitted try that was never persisted', async () => {
    const d = dir();
    const v1 = web(100);
    const v2 = web(101, (o) => (o.spec.replicas = 4));
    const tried = web(101, (o) => (o.spec.replicas = 8));
    const v3 = web(102, (o) => (o.spec.replicas = 6));
    // driftguard saw jane's write (persisted) and a try of bob's that never was; then was down while bob wrote.
    const records = [
      finalRecord(jane(), v1, { ...v2, metadata: { ...v2.metadata, resourceVersion: '100' } }, t(10).replace('123Z', '100Z'), 'uid-jane'),
      finalRecord(oncallBob(), v2, { ...tried, metadata: { ...tried.metadata, resourceVersion: '101' } }, t(20), 'uid-bob-try'),
    ];
    writeFileSync(path.join(d, 'driftguard.jsonl'), records.map((x) => JSON.stringify(x)).join('\n') + '\n');
    writeFileSync(
      path.join(d, 'audit.log'),
      jsonLines([
        auditEvent({ verb: 'create', user: argocdController(), object: v1, time: t(0), auditID: 'a0' }),
        auditEvent({ verb: 'patch', user: jane(), object: v2, time: t(10), auditID: 'a1' }),
        auditEvent({ verb: 'patch', user: oncallBob(), object: tried, code: 409, time: t(20), auditID: 'a2' }),
        auditEvent({ verb: 'patch', user: oncallBob(), object: v3, time: t(90), auditID: 'a3' }),
      ]),
    );
    const r = await cli(
      [
        'history',
        'deploy/web',
        '-n',
        'prod-shop',
        path.join(d, 'driftguard.jsonl'),
        '--audit-log',
        path.join(d, 'audit.log'),
        '-o',
        'json',
      ],
      { now: NOW },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('note: 2 persisted write(s) that no driftguard webhook saw');
    expect(r.stderr).toContain(`${t(90)} UPDATE by ${oncallBob().username} (a3)`);
    expect(r.stderr).toContain('note: 1 admitted try that the audit log shows were never persisted');
    expect(r.stderr).toContain(`UPDATE by ${oncallBob().username} (uid-bob-try)`);
    const entries = JSON.parse(r.stdout).entries ?? JSON.parse(r.stdout);
    expect(entries.map((e: any) => [e.uid, e.source])).toEqual([
      ['a3', 'audit-log'],
      ['uid-jane', 'both'],
      ['a0', 'audit-log'],
    ]);
  });
});
