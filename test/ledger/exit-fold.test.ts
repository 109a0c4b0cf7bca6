/**
 * The exit observer folded into the validating call (src/ledger/pair.ts): with only entry and final
 * records, a field the final has and the entry lacks is a mutating webhook's, except the fields the
 * API server itself sets between mutating and validating admission (src/k8s/set-after-mutation.ts).
 * Exit records of earlier installs are still used as before.
 */
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import type { AdmissionReviewRequest } from '../../src/k8s/admission.js';
import type { Change } from '../../src/engine/diff.js';
import { setAfterMutation } from '../../src/k8s/set-after-mutation.js';
import { pairStages, webhookPaths } from '../../src/ledger/pair.js';
import { changeRecord } from '../../src/records/builders.js';
import type { ChangeRecord, ChangeStage } from '../../src/records/record.js';
import { edited, object } from '../support/fixtures.js';
import { jane } from '../support/identities.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const STAMP = '/metadata/annotations/stamp.example.com';

function rec(stage: ChangeStage, review: AdmissionReviewRequest, atMs: number, changes: Change[]): ChangeRecord {
  return changeRecord({ request: review.request, stage, changes, truncated: false, actorClass: 'person', time: new Date(T0 + atMs) });
}

const stored = object('deployment-prod-web');
const janeEdit = (): AdmissionReviewRequest =>
  buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    fieldManager: 'kubectl-edit',
    oldObject: stored,
    object: edited(stored, (o) => (o.spec.replicas = 5)),
  });
const replicas: Change = { path: '/spec/replicas', op: 'replace', old: 3, new: 5 };
const stamp: Change = { path: STAMP, op: 'add', new: 'stamp-1' };

describe('webhook fields from entry and final alone', () => {
  it('a field the final has and the entry lacks is the webhook’s; the requester’s own field stays theirs', () => {
    const entry = rec('entry', janeEdit(), 0, [replicas]);
    const final = rec('final', janeEdit(), 20, [replicas, stamp]);
    const { writes } = pairStages([final], [entry]);
    expect([...writes[0]!.webhookPaths]).toEqual([STAMP]);
  });

  it('the same answer as with an exit record (an earlier install’s three calls)', () => {
    const entry = rec('entry', janeEdit(), 0, [replicas]);
    const exit = rec('exit', janeEdit(), 10, [replicas, stamp]);
    const final = rec('final', janeEdit(), 20, [replicas, stamp]);
    expect([...webhookPaths(final, entry, exit)]).toEqual([...webhookPaths(final, entry, undefined)]);
    expect([...pairStages([final], [entry, exit]).writes[0]!.webhookPaths]).toEqual([STAMP]);
  });

  it('a value a webhook changed counts; one it left alone does not', () => {
    const entry = rec('entry', janeEdit(), 0, [replicas, { ...stamp, new: 'mine' }]);
    const final = rec('final', janeEdit(), 20, [replicas, { ...stamp, new: 'theirs' }]);
    expect([...webhookPaths(final, entry, undefined)]).toEqual([STAMP]);
    const same = rec('final', janeEdit(), 20, [replicas, { ...stamp, new: 'mine' }]);
    expect([...webhookPaths(same, entry, undefined)]).toEqual([]);
  });

  it('no entry (observe: none): nothing is a webhook’s', () => {
    const final = rec('final', janeEdit(), 20, [replicas, stamp]);
    expect([...pairStages([final], []).writes[0]!.webhookPaths]).toEqual([]);
  });

  it("a Service's cluster IPs and a generated name are the API server's, not a webhook's", () => {
    const svc = object('service-prod-web');
    const create = buildReview({ operation: 'CREATE', userInfo: jane(), fieldManager: 'kubectl-create', object: svc });
    const entry = rec('entry', create, 0, [{ path: '/spec/ports/0/port', op: 'add', new: 80 }]);
    const final = rec('final', create, 20, [
      { path: '/spec/ports/0/port', op: 'add', new: 80 },
      { path: '/spec/clusterIP', op: 'add', new: '10.0.0.7' },
      { path: '/spec/clusterIPs/0', op: 'add', new: '10.0.0.7' },
      { path: '/spec/ipFamilies/0', op: 'add', new: 'IPv4' },
      { path: '/spec/ipFamilyPolicy', op: 'add', new: 'SingleStack' },
      { path: '/metadata/name', op: 'add', new: 'web-x7k2p' },
      stamp,
    ]);
    expect([...webhookPaths(final, entry, undefined)]).toEqual([STAMP]);
  });
});

describe('setAfterMutation', () => {
  it('names the Service allocations, the Job selector and labels, the Namespace finalizer, and the name', () => {
    expect(setAfterMutation({ group: '', resource: 'services' }, '/spec/ports/1/nodePort')).toBe(true);
    expect(setAfterMutation({ group: '', resource: 'services' }, '/spec/healthCheckNodePort')).toBe(true);
    expect(setAfterMutation({ group: 'batch', resource: 'jobs' }, '/spec/selector/matchLabels/batch.kubernetes.io~1controller-uid')).toBe(
      true,
    );
    expect(setAfterMutation({ group: 'batch', resource: 'jobs' }, '/spec/template/metadata/labels/job-name')).toBe(true);
    expect(setAfterMutation({ group: '', resource: 'namespaces' }, '/spec/finalizers/0')).toBe(true);
    expect(setAfterMutation({ group: 'apps', resource: 'deployments' }, '/metadata/name')).toBe(true);
  });

  it('leaves every other field, and every subresource, to the comparison', () => {
    expect(setAfterMutation({ group: '', resource: 'services' }, '/spec/ports/0/port')).toBe(false);
    expect(setAfterMutation({ group: 'apps', resource: 'deployments' }, '/spec/selector/matchLabels/app')).toBe(false);
    expect(setAfterMutation({ group: 'batch', resource: 'jobs' }, '/spec/template/metadata/labels/app')).toBe(false);
    expect(setAfterMutation({ group: 'apps', resource: 'deployments' }, '/metadata/labels/app')).toBe(false);
    expect(setAfterMutation({ group: 'apps', resource: 'deployments', subResource: 'scale' }, '/metadata/name')).toBe(false);
  });
});
