import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { parseReview } from '../../src/admission/review.js';
import { allowed, denied, errored, review } from '../../src/admission/response.js';
import { contentDigest } from '../../src/records/digest.js';
import { object } from '../support/fixtures.js';
import { jane } from '../support/identities.js';

const good = () =>
  buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    object: object('deployment-prod-web'),
    oldObject: object('deployment-prod-web'),
  }) as any;

describe('parseReview', () => {
  it('accepts what the API server sends, with null for absent objects and options', () => {
    const r = good();
    delete r.request.options;
    const p = parseReview(r);
    expect(p.ok).toBe(true);
    if (p.ok) expect(p.request.options).toBeNull();
    const create = buildReview({ operation: 'CREATE', userInfo: jane(), object: object('deployment-prod-web') });
    expect(create.request.oldObject).toBeNull();
  });

  it("keeps the objects in the order the API server sent their members, so their digests are the audit log copies' digests", () => {
    // The API server sends kind before apiVersion, and metadata in its Go fields' order.
    const sent = {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web', namespace: 'n', deletionGracePeriodSeconds: 30, labels: { a: 'b' } },
      spec: { replicas: 2 },
    };
    const r = good();
    r.request.object = structuredClone(sent);
    r.request.oldObject = structuredClone(sent);
    const p = parseReview(r);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(JSON.stringify(p.request.object)).toBe(JSON.stringify(sent));
    expect(JSON.stringify(p.request.oldObject)).toBe(JSON.stringify(sent));
    expect(contentDigest(p.request.object, false)).toBe(contentDigest(sent, false));
  });

  it.each([
    ['operation', (r: any) => (r.request.operation = 'PATCH'), 'request.operation'],
    ['kind', (r: any) => (r.request.kind = 'Deployment'), 'request.kind must be an object'],
    ['resource.resource', (r: any) => (r.request.resource.resource = 7), 'request.resource.resource'],
    ['userInfo', (r: any) => delete r.request.userInfo, 'request.userInfo must be an object'],
    ['username', (r: any) => (r.request.userInfo.username = null), 'username'],
    ['groups', (r: any) => (r.request.userInfo.groups = [1]), 'groups'],
    ['object', (r: any) => (r.request.object = 'x'), 'request.object'],
    ['metadata', (r: any) => (r.request.oldObject.metadata = []), 'oldObject.metadata'],
    ['dryRun', (r: any) => (r.request.dryRun = 'yes'), 'dryRun'],
  ])('a wrong %s is malformed, and the uid is kept for the answer', (_name, mutate, message) => {
    const r = good();
    mutate(r);
    const p = parseReview(r);
    expect(p).toMatchObject({ ok: false, kind: 'malformed', uid: r.request.uid });
    if (!p.ok) expect(p.message).toContain(message);
  });

  it('no request, no uid, or another kind is not a review at all', () => {
    expect(parseReview([])).toMatchObject({ ok: false, kind: 'invalid', code: 'DG_REVIEW_INVALID' });
    expect(parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'Other', request: {} })).toMatchObject({ kind: 'invalid' });
    expect(parseReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: '' } })).toMatchObject({
      kind: 'invalid',
    });
  });
});

describe('response helpers', () => {
  it('carry the uid, 403 for a denial, and no empty warnings or annotations', () => {
    expect(allowed('u1', { warnings: [], auditAnnotations: {} })).toEqual({ uid: 'u1', allowed: true });
    expect(denied('u2', 'no')).toEqual({ uid: 'u2', allowed: false, status: { code: 403, reason: 'Forbidden', message: 'no' } });
    expect(errored('u3', 500, 'x').status?.code).toBe(500);
    expect(review('admission.k8s.io/v1beta1', allowed('u4'))).toEqual({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: 'u4', allowed: true },
    });
  });
});
