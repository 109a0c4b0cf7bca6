import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeReport, type ObjectReport, type ReportPolicy, type ReportScope } from '../../src/reports/compute.js';
import { renderReport } from '../../src/reports/render.js';
import type { ReadRecord } from '../../src/records/read.js';

// One Deployment's day (test/fixtures/reports/web.jsonl): Argo CD creates it at 10:00, alice's two
// edits are denied (10:05, 10:06), carol breaks the glass on the image until 12:00 (10:10), bob's
// annotation change is tolerated by a warn-mode policy (10:15), the HPA scales inside an exception
// (10:20), Argo CD reverts image and annotation (10:40) and prunes the Deployment (11:00).
const RECORDS: ReadRecord[] = readFileSync(new URL('../fixtures/reports/web.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as ReadRecord);

const TARGET = { group: 'apps', resource: 'deployments', namespace: 'prod', name: 'web' };
const SCOPE: ReportScope = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace: 'prod',
  name: 'web',
  uid: '5d1c2b7e-0f3a-4e61-9a2d-7c0b8e4f1a10',
};
const POLICIES = new Map<string, ReportPolicy>([
  ['argocd-prod', { mode: 'enforce', severity: 'high' }],
  ['team-notes', { mode: 'warn' }],
]);
const IMAGE = '/spec/template/spec/containers[name=web]/image';

function until(time: string): ReadRecord[] {
  return RECORDS.filter((r) => Date.parse(r.time) <= Date.parse(time));
}

function report(upTo: string, now: string, extra: Partial<Parameters<typeof computeReport>[0]> = {}): ObjectReport {
  const r = computeReport({ records: until(upTo), target: TARGET, scope: SCOPE, policies: POLICIES, now: new Date(now), ...extra });
  if (r === undefined) throw new Error('no report');
  return r;
}

function result(r: ObjectReport, policy: string) {
  const found = r.results.find((x) => x.policy === policy);
  if (found === undefined) throw new Error(`no result for ${policy}`);
  return found;
}

describe('computeReport', () => {
  it('has nothing to say of an object only GitOps wrote', () => {
    const r = report('2026-12-01T10:00:00Z', '2026-12-01T10:01:00Z');
    expect(r.results).toEqual([]);
    expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });
  });

  it('denied edits: pass (nothing changed), the denials newest first as properties, the message as the denial said it', () => {
    const r = report('2026-12-01T10:06:00Z', '2026-12-01T10:07:00Z');
    const p = result(r, 'argocd-prod');
    expect(p.result).toBe('pass');
    expect(p.message).toBe(
      `driftguard: denied by policy argocd-prod: /spec/template/spec/containers/0/image changed by alice@example.com, who is not a GitOps identity. Change it in Git.`,
    );
    expect(p.properties).toEqual({
      deniedAttempts: '2',
      'denied.1': `2026-12-01T10:06:00.000Z alice@example.com: ${IMAGE}`,
      'denied.2': '2026-12-01T10:05:00.000Z alice@example.com: /spec/replicas',
    });
    expect(p).toMatchObject({ source: 'driftguard', category: 'GitOps drift', severity: 'high' });
    expect(p.timestamp).toEqual({ seconds: Date.parse('2026-12-01T10:06:00Z') / 1000, nanos: 0 });
    expect(r.summary).toEqual({ pass: 1, fail: 0, warn: 0, error: 0, skip: 0 });
  });

  it("a message as the requester was told it: that policy's part of the denial, the warning it got", () => {
    const byUid = (decision: string) =>
      RECORDS.find(
        (r) => r.type === 'violation' && r.decision === decision && r.time.startsWith('2026-12-01T10:06') === (decision === 'denied'),
      )!.uid as string;
    const told = new Map([
      [
        byUid('denied'),
        {
          message: 'driftguard: policy other: no; policy argocd-prod: alice@example.com may not change Deployment prod/web: image',
          warnings: [],
        },
      ],
      [
        byUid('break-glass'),
        { warnings: ['driftguard: other (warn): drift by carol', 'driftguard: break-glass (argocd-prod) by carol@example.com: as told'] },
      ],
    ]);
    expect(result(report('2026-12-01T10:06:00Z', '2026-12-01T10:07:00Z', { told }), 'argocd-prod').message).toBe(
      'driftguard: policy argocd-prod: alice@example.com may not change Deployment prod/web: image',
    );
    expect(result(report('2026-12-01T10:10:00Z', '2026-12-01T10:30:00Z', { told }), 'argocd-prod').message).toBe(
      'driftguard: break-glass (argocd-prod) by carol@example.com: as told',
    );
  });

  it('keeps only the newest N denials', () => {
    const r = report('2026-12-01T10:06:00Z', '2026-12-01T10:07:00Z', { limits: { maxResults: 50, deniedAttempts: 1 } });
    expect(Object.keys(result(r, 'argocd-prod').properties).sort()).toEqual(['denied.1', 'deniedAttempts']);
  });

  it('an active break-glass change: warn with who, which field, since when and the expiry; the report changes again at the expiry', () => {
    const r = report('2026-12-01T10:10:00Z', '2026-12-01T10:30:00Z');
    const w = result(r, 'argocd-prod');
    expect(w.result).toBe('warn');
    expect(w.message).toBe('driftguard: break-glass (argocd-prod) by carol@example.com: INC-4711');
    expect(w.properties).toMatchObject({
      fields: IMAGE,
      [IMAGE]: 'set by carol@example.com at 2026-12-01T10:10:00.000Z; in drift since 2026-12-01T10:10:00.000Z',
      breakGlassBy: 'carol@example.com',
      breakGlassReason: 'INC-4711',
      breakGlassExpires: '2026-12-01T12:00:00Z',
      deniedAttempts: '2',
    });
    expect(r.nextChangeAt).toBe(Date.parse('2026-12-01T12:00:00Z'));
    expect(r.summary.warn).toBe(1);
  });

  it('the same drift once the break-glass entry has expired: fail, stamped at the expiry', () => {
    const r = report('2026-12-01T10:10:00Z', '2026-12-01T12:30:00Z');
    const f = result(r, 'argocd-prod');
    expect(f.result).toBe('fail');
    expect(f.message).toContain('expired at 2026-12-01T12:00:00Z');
    expect(f.message).toContain(`${IMAGE} (set by carol@example.com, in drift since 2026-12-01T10:10:00.000Z)`);
    expect(f.timestamp.seconds).toBe(Date.parse('2026-12-01T12:00:00Z') / 1000);
    expect(r.nextChangeAt).toBeUndefined();
    expect(r.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
  });

  it('a warn-mode violation still in effect: warn, its own message; no severity when the policy sets none', () => {
    const r = report('2026-12-01T10:15:00Z', '2026-12-01T10:30:00Z');
    const w = result(r, 'team-notes');
    expect(w.result).toBe('warn');
    expect(w.message).toBe(
      'driftguard: policy team-notes (warn): /metadata/annotations/team changed by bob@example.com, who is not a GitOps identity',
    );
    expect(w.properties.fields).toBe('/metadata/annotations/team');
    expect('severity' in w).toBe(false);
    expect(r.summary).toEqual({ pass: 0, fail: 0, warn: 2, error: 0, skip: 0 });
  });

  it('an HPA scale inside an exception is no finding: the results stay as they were', () => {
    const before = report('2026-12-01T10:15:00Z', '2026-12-01T10:30:00Z');
    const after = report('2026-12-01T10:20:00Z', '2026-12-01T10:30:00Z');
    expect(after.results).toEqual(before.results);
    expect(JSON.stringify(after.results)).not.toContain('/spec/replicas (set by');
  });

  it('after Argo CD reverts: pass for both policies, the denials still listed', () => {
    const r = report('2026-12-01T10:40:00Z', '2026-12-01T10:45:00Z');
    expect(r.results.map((x) => [x.policy, x.result])).toEqual([
      ['argocd-prod', 'pass'],
      ['team-notes', 'pass'],
    ]);
    expect(result(r, 'team-notes').message).toBe('Git and the live object agree');
    expect(result(r, 'argocd-prod').properties.deniedAttempts).toBe('2');
    expect(r.summary).toEqual({ pass: 2, fail: 0, warn: 0, error: 0, skip: 0 });
  });

  it('no report once the object is deleted', () => {
    expect(
      computeReport({ records: RECORDS, target: TARGET, scope: SCOPE, policies: POLICIES, now: new Date('2026-12-01T11:30:00Z') }),
    ).toBe(undefined);
  });

  it('drops results of policies no longer loaded, and trims to maxResults keeping the worst, with the count', () => {
    const onlyTeam = report('2026-12-01T10:15:00Z', '2026-12-01T10:30:00Z', { policies: new Map([['team-notes', { mode: 'warn' }]]) });
    expect(onlyTeam.results.map((x) => x.policy)).toEqual(['team-notes']);
    const expired = report('2026-12-01T10:15:00Z', '2026-12-01T12:30:00Z', { limits: { maxResults: 1, deniedAttempts: 5 } });
    expect(expired.results.map((x) => [x.policy, x.result])).toEqual([['argocd-prod', 'fail']]);
    expect(expired.trimmed).toBe(1);
    expect(expired.summary).toEqual({ pass: 0, fail: 1, warn: 0, error: 0, skip: 0 });
  });
});

describe('renderReport', () => {
  const r = report('2026-12-01T10:10:00Z', '2026-12-01T10:30:00Z');

  it('OpenReports: a Report in the object namespace, owned by the object, named after its uid, with the source', () => {
    const out = renderReport('openreports', r);
    expect(out).toMatchObject({
      name: `driftguard-${SCOPE.uid}`,
      namespace: 'prod',
      kind: { resource: 'reports', group: 'openreports.io' },
    });
    expect(out.body).toMatchObject({
      apiVersion: 'openreports.io/v1alpha1',
      kind: 'Report',
      metadata: {
        name: `driftguard-${SCOPE.uid}`,
        namespace: 'prod',
        labels: { 'app.kubernetes.io/managed-by': 'driftguard' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: SCOPE.uid }],
      },
      scope: SCOPE,
      source: 'driftguard',
      summary: r.summary,
    });
  });

  it('wg-policy: a PolicyReport without the report-level source; a cluster-scoped object gets a cluster-scoped report', () => {
    const out = renderReport('wgpolicy', r);
    expect(out.body).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport' });
    expect('source' in out.body).toBe(false);
    const { namespace: _ns, ...clusterScope } = SCOPE;
    const cluster = renderReport('wgpolicy', { ...r, scope: { ...clusterScope, kind: 'Namespace', apiVersion: 'v1' } });
    expect(cluster.body.kind).toBe('ClusterPolicyReport');
    expect(cluster.namespace).toBeUndefined();
    expect((cluster.body.metadata as Record<string, unknown>).namespace).toBeUndefined();
    expect(renderReport('openreports', { ...r, scope: clusterScope }).body.kind).toBe('ClusterReport');
  });
});
