/** Pairing entry, exit and final at read time, and what explain makes of a timeline. */
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import type { AdmissionReviewRequest } from '../../src/k8s/admission.js';
import type { Change } from '../../src/engine/diff.js';
import { explainTimeline } from '../../src/ledger/explain.js';
import { CLOCK_SKEW_MS, pairStages, PAIR_WINDOW_MS } from '../../src/ledger/pair.js';
import { parseTarget } from '../../src/ledger/target.js';
import { buildTimeline } from '../../src/ledger/timeline.js';
import type { ReadRecord } from '../../src/records/read.js';
import { changeRecord, correlationKey } from '../../src/records/builders.js';
import type { ChangeRecord, ChangeStage } from '../../src/records/record.js';
import { edited, object } from '../support/fixtures.js';
import { argocdController, jane } from '../support/identities.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const stored = object('deployment-prod-web');

function janeEdit(replicas: number): AdmissionReviewRequest {
  return buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    fieldManager: 'kubectl-edit',
    oldObject: stored,
    object: edited(stored, (o) => (o.spec.replicas = replicas)),
  });
}

function rec(
  stage: ChangeStage,
  review: AdmissionReviewRequest,
  atMs: number,
  changes: Change[],
  actorClass: ChangeRecord['actorClass'] = 'person',
): ChangeRecord {
  return changeRecord({ request: review.request, stage, changes, truncated: false, actorClass, time: new Date(T0 + atMs) });
}

const replicas = (n: number): Change[] => [{ path: '/spec/replicas', op: 'replace', old: 3, new: n }];

describe('pairing by correlation key and time, never by uid', () => {
  it('the three calls of one request share a key though each has its own uid', () => {
    const entry = janeEdit(5);
    const final = janeEdit(5);
    expect(entry.request.uid).not.toBe(final.request.uid);
    expect(correlationKey(entry.request)).toBe(correlationKey(final.request));
    expect(correlationKey(entry.request)).toBe('UPDATE apps/deployments prod-shop/web 184467 oidc:jane@example.com');
  });

  it('two same-key requests in a row pair each final with its own, latest preceding, entry', () => {
    const e1 = rec('entry', janeEdit(5), 0, replicas(5));
    const f1 = rec('final', janeEdit(5), 30, replicas(5));
    const e2 = rec('entry', janeEdit(6), 1_000, replicas(6));
    const f2 = rec('final', janeEdit(6), 1_030, replicas(6));
    const { writes, unpaired } = pairStages([f2, f1], [e2, e1]);
    expect(writes.map((w) => [w.final.changes[0]!.new, w.entry?.changes[0]!.new])).toEqual([
      [5, 5],
      [6, 6],
    ]);
    expect(unpaired).toBe(0);
  });

  it('an observation older than the window, or from another requester, does not pair', () => {
    const old = rec('entry', janeEdit(5), 0, replicas(5));
    const argo = rec(
      'entry',
      buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        oldObject: stored,
        object: edited(stored, (o) => (o.spec.replicas = 5)),
      }),
      PAIR_WINDOW_MS,
      replicas(5),
      'gitops',
    );
    const final = rec('final', janeEdit(5), PAIR_WINDOW_MS + 1, replicas(5));
    const { writes, unpaired } = pairStages([final], [old, argo]);
    expect(writes[0]!.entry).toBeUndefined();
    expect(unpaired).toBe(2);
  });

  it("tolerates a replica clock a little ahead of the final's, and no more", () => {
    const exit = rec('exit', janeEdit(5), CLOCK_SKEW_MS, replicas(5));
    const tooLate = rec('exit', janeEdit(5), CLOCK_SKEW_MS + 1, replicas(5));
    expect(pairStages([rec('final', janeEdit(5), 0, replicas(5))], [exit]).writes[0]!.exit).toBe(exit);
    expect(pairStages([rec('final', janeEdit(5), 0, replicas(5))], [tooLate]).writes[0]!.exit).toBeUndefined();
  });

  it('attributes to webhooks only what changed between entry and exit, and only with both', () => {
    const sent: Change[] = [{ path: '/spec/template/spec/containers/0/image', op: 'replace', old: 'a:1', new: 'a:2' }];
    const mutated: Change[] = [
      { path: '/spec/template/spec/containers/0/image', op: 'replace', old: 'a:1', new: 'a@sha256:abc' },
      { path: '/spec/template/metadata/annotations/injected', op: 'add', new: 'yes' },
    ];
    const entry = rec('entry', janeEdit(5), 0, sent);
    const exit = rec('exit', janeEdit(5), 10, mutated);
    const final = rec('final', janeEdit(5), 20, mutated);
    expect([...pairStages([final], [entry, exit]).writes[0]!.webhookPaths]).toEqual([
      '/spec/template/spec/containers/0/image',
      '/spec/template/metadata/annotations/injected',
    ]);
    expect(pairStages([final], [exit]).writes[0]!.webhookPaths.size).toBe(0);
    // An entry that listed only part of its changes cannot say a path was absent.
    const partial = { ...entry, changesOmitted: 3 };
    expect([...pairStages([final], [partial, exit]).writes[0]!.webhookPaths]).toEqual(['/spec/template/spec/containers/0/image']);
  });
});

describe('explain rules on a timeline', () => {
  const target = parseTarget('deploy/web', 'prod-shop');
  const argo = (replicasN: number) =>
    buildReview({
      operation: 'UPDATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      oldObject: stored,
      object: edited(stored, (o) => (o.spec.replicas = replicasN)),
    });
  const asRead = (records: ChangeRecord[]) => records.map((r) => r as unknown as ReadRecord);

  it('a field only a person ever wrote (GitOps never did, as far as the records go) is DRIFT without a GitOps value', () => {
    const { entries } = buildTimeline(asRead([rec('final', janeEdit(7), 0, replicas(7))]), target);
    const [f] = explainTimeline(entries).fields;
    expect(f).toMatchObject({ path: '/spec/replicas', value: 7, drift: true });
    expect(f!.gitops).toBeUndefined();
  });

  it('reverted: reports the first drift of the episode GitOps closed, and its duration', () => {
    const records = [
      rec('final', argo(3), 0, replicas(3), 'gitops'),
      rec('final', janeEdit(7), 60_000, replicas(7)),
      rec('final', janeEdit(8), 120_000, replicas(8)),
      rec('final', argo(3), 420_000, replicas(3), 'gitops'),
    ];
    const { entries } = buildTimeline(asRead(records), target);
    const [f] = explainTimeline(entries).fields;
    expect(f).toMatchObject({ value: 3, drift: false, reverted: { afterSeconds: 360, driftBy: 'oidc:jane@example.com' } });
    // With the window after the revert, nothing changed in it.
    expect(explainTimeline(entries, { since: new Date(T0 + 421_000) }).fields).toEqual([]);
  });

  it('a DELETE ends the object; a later CREATE starts it over', () => {
    const del = buildReview({ operation: 'DELETE', userInfo: argocdController(), oldObject: stored });
    const records = [rec('final', janeEdit(7), 0, replicas(7)), rec('final', del, 1_000, [{ path: '', op: 'remove' }], 'gitops')];
    const { entries } = buildTimeline(asRead(records), target);
    const x = explainTimeline(entries);
    expect(x.deleted).toEqual({ by: argocdController().username, actorClass: 'gitops', time: new Date(T0 + 1_000).toISOString() });
    expect(x.fields).toEqual([]);
  });

  it('ignores records of other objects, namespaces and resources', () => {
    const other = buildReview({
      operation: 'UPDATE',
      userInfo: jane(),
      oldObject: { ...stored, metadata: { ...stored.metadata, name: 'api' } },
      object: { ...stored, metadata: { ...stored.metadata, name: 'api' } },
    });
    const { entries } = buildTimeline(asRead([rec('final', other, 0, replicas(9))]), target);
    expect(entries).toEqual([]);
    expect(buildTimeline(asRead([rec('final', janeEdit(9), 0, replicas(9))]), parseTarget('sts/web', 'prod-shop')).entries).toEqual([]);
    expect(buildTimeline(asRead([rec('final', janeEdit(9), 0, replicas(9))]), parseTarget('deploy/web', 'prod-other')).entries).toEqual([]);
  });
});
