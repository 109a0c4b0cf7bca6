/**
 * Conflict retries: which admitted tries of a write the API server persisted, from the digests the
 * final records carry (the behaviour test/e2e/conflicts.test.ts shows on a real server).
 */
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import type { KubeObject, UserInfo } from '../../src/k8s/admission.js';
import { diff } from '../../src/engine/diff.js';
import { NEVER_DRIFT } from '../../src/k8s/never-drift.js';
import { supersededFinals, supersededUids } from '../../src/ledger/persisted.js';
import { toEntries } from '../../src/audit/entry.js';
import { parseTarget } from '../../src/ledger/target.js';
import { buildTimeline } from '../../src/ledger/timeline.js';
import { createHash } from 'node:crypto';
import { contentDigest, type ValueHashes } from '../../src/records/digest.js';
import type { ReadRecord } from '../../src/records/read.js';
import { changeRecord } from '../../src/records/builders.js';
import type { ChangeRecord, DriftRecord } from '../../src/records/record.js';
import { object } from '../support/fixtures.js';
import { argocdController, hpa, jane, oncallBob } from '../support/identities.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');

/** The object at a resourceVersion, with an annotation set. */
function at(rv: number, annotations: Record<string, string> = {}, base: KubeObject = object('deployment-prod-web')): KubeObject {
  const o = structuredClone(base) as any;
  o.metadata.resourceVersion = String(rv);
  Object.assign(o.metadata.annotations, annotations);
  return o;
}

/** The final record of one try: `who` patches the object stored at `from` with `annotations`. */
function tryAt(who: UserInfo, from: KubeObject, annotations: Record<string, string>, atMs: number, subResource?: 'scale'): ChangeRecord {
  const next = at(Number(from.metadata!.resourceVersion), annotations, from);
  if (subResource === 'scale') (next as any).spec.replicas = Number(annotations.replicas ?? 3);
  const review = buildReview({
    operation: 'UPDATE',
    userInfo: who,
    fieldManager: 'kubectl-patch',
    oldObject: from,
    object: next,
    ...(subResource === undefined ? {} : { subResource }),
  });
  const { changes } = diff(review.request.oldObject ?? undefined, review.request.object ?? undefined, { ignore: NEVER_DRIFT });
  return changeRecord({
    request: review.request,
    stage: 'final',
    changes,
    truncated: false,
    actorClass: 'person',
    time: new Date(T0 + atMs),
  });
}

describe('content digests', () => {
  it('ignore bookkeeping, and change with any field a write can set', () => {
    const a = object('deployment-prod-web') as any;
    const b = structuredClone(a);
    b.metadata.resourceVersion = '999';
    b.metadata.generation = 9;
    b.metadata.managedFields = [];
    b.status = { replicas: 7 };
    b.metadata.annotations['deployment.kubernetes.io/revision'] = '12';
    expect(contentDigest(b, false)).toBe(contentDigest(a, false));
    b.spec.replicas = 4;
    expect(contentDigest(b, false)).not.toBe(contentDigest(a, false));
    expect(contentDigest(null, false)).toBeUndefined();
    // A hostile review nested past the stack gets no digest, and no exception on the admission path.
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 30_000; i++) deep = { a: deep };
    expect(
      contentDigest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: deep } as KubeObject, false),
    ).toBeUndefined();
  });

  it('tell apart ConfigMaps that differ in one character of a long value, its key or where it sits', () => {
    const file = 'line of a config file\n'.repeat(100);
    const cm = (data: Record<string, string>, binaryData?: Record<string, string>) =>
      ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data, ...(binaryData ? { binaryData } : {}) }) as KubeObject;
    const base = contentDigest(cm({ 'a.conf': file, small: 'x' }), false);
    expect(contentDigest(cm({ 'a.conf': file, small: 'x' }), false)).toBe(base);
    expect(contentDigest(cm({ 'a.conf': `${file.slice(0, -2)}!\n`, small: 'x' }), false)).not.toBe(base);
    expect(contentDigest(cm({ 'b.conf': file, small: 'x' }), false)).not.toBe(base);
    expect(contentDigest(cm({ small: 'x' }, { 'a.conf': file }), false)).not.toBe(base);
    // A long value and the stand-in for it (an object no ConfigMap can hold) never collide.
    const standIn = { sha256: createHash('sha256').update(file).digest('base64url') } as unknown as string;
    expect(contentDigest(cm({ 'a.conf': standIn, small: 'x' }), false)).not.toBe(base);
    // Lone surrogates (no API server sends them) are not merged by the UTF-8 of a hash.
    const lone = (c: string) => contentDigest(cm({ 'a.conf': `${file}${c}` }), false);
    expect(lone('\ud800')).not.toBe(lone('\udbff'));
  });

  it('give the same digests when the two objects of a record share hashes, hashing a long value both hold under one name once', () => {
    const file = 'line of a config file\n'.repeat(100);
    const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data }) as KubeObject;
    // Two string objects of equal content, as two parts of one parsed review are.
    const [a, b] = JSON.parse(JSON.stringify([cm({ 'a.conf': file, 'b.conf': `${file}b` }), cm({ 'a.conf': file, 'b.conf': `${file}c` })]));
    const hashes: ValueHashes = new Map();
    const [da, db] = [contentDigest(a, false, hashes), contentDigest(b, false, hashes)];
    // a.conf is the same in both and kept from a; b.conf differs and is hashed again.
    expect([...hashes].map(([k, v]) => [k, v.value])).toEqual([
      ['a.conf', file],
      ['b.conf', `${file}c`],
    ]);
    expect([da, db]).toEqual([contentDigest(a, false), contentDigest(b, false)]);
    expect(db).not.toBe(da);
    // A value equal to the one known under its name is not hashed again (a wrong entry shows in
    // the digest); under another name, or with another value, it is.
    const wrong = (name: string, value: string) => new Map([[name, { value, sha256: 'not-its-hash' }]]);
    expect(contentDigest(a, false, wrong('a.conf', file))).not.toBe(contentDigest(a, false));
    expect(contentDigest(a, false, wrong('c.conf', file))).toBe(contentDigest(a, false));
    expect(contentDigest(a, false, wrong('a.conf', `${file}a`))).toBe(contentDigest(a, false));
  });

  it("never hash a Secret's values, only its keys", () => {
    const secret = (v: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: v } });
    expect(contentDigest(secret('aHVudGVyMg=='), true)).toBe(contentDigest(secret('c2VjcmV0'), true));
    expect(contentDigest({ ...secret('x'), data: { token: 'x' } }, true)).not.toBe(contentDigest(secret('x'), true));
  });
});

describe('which tries were persisted', () => {
  const v10 = at(10);

  it('two writers start from the same version: the one the next version starts from was stored, the other retried', () => {
    const janeTry = tryAt(jane(), v10, { last: 'jane' }, 0);
    const bobTry = tryAt(oncallBob(), v10, { last: 'bob' }, 2);
    // Jane's landed as version 11; Bob's retry starts from it.
    const bobRetry = tryAt(oncallBob(), at(11, { last: 'jane' }), { last: 'bob' }, 20);
    expect([...supersededFinals([janeTry, bobTry, bobRetry])]).toEqual([bobTry]);
  });

  it('a try from the watch cache older copy is superseded by its retry from the current one', () => {
    const janeTry = tryAt(jane(), v10, { last: 'jane' }, 0);
    const bobStale = tryAt(oncallBob(), v10, { last: 'bob' }, 30); // after 11 existed
    const bobRetry = tryAt(oncallBob(), at(11, { last: 'jane' }), { last: 'bob' }, 35);
    const janeNext = tryAt(jane(), at(12, { last: 'bob' }), { last: 'jane-2' }, 50);
    expect([...supersededFinals([janeTry, bobStale, bobRetry, janeNext])]).toEqual([bobStale]);
  });

  it('a try lost to a write no record shows (a status write) is superseded when its requester came again', () => {
    const bobTry = tryAt(oncallBob(), v10, { last: 'bob' }, 0);
    // The deployment controller's status write made version 11: same content, no record.
    const bobRetry = tryAt(oncallBob(), at(11), { last: 'bob' }, 10);
    expect([...supersededFinals([bobTry, bobRetry])]).toEqual([bobTry]);
  });

  it('keeps a try it cannot judge: the last version, another subresource next, no sign of a retry', () => {
    const janeTry = tryAt(jane(), v10, { last: 'jane' }, 0);
    const bobTry = tryAt(oncallBob(), v10, { last: 'bob' }, 2);
    expect(supersededFinals([janeTry, bobTry]).size).toBe(0);
    // The HPA's scale write is next: a Scale's digest says nothing about the Deployment's.
    const scale = tryAt(hpa(), at(11, { last: 'jane' }), { replicas: '5' }, 10, 'scale');
    expect(supersededFinals([janeTry, scale]).size).toBe(0);
    // Version 11's records are missing (another replica's file not read): the next recorded version
    // starts elsewhere, but nothing says Jane's try was retried or that another try won.
    const argo = tryAt(argocdController(), at(12, { last: 'other' }), { last: 'git' }, 30);
    expect(supersededFinals([janeTry, argo]).size).toBe(0);
  });

  it('two tries that would store the same content: the earlier counts, the other found nothing left to do', () => {
    const first = tryAt(jane(), v10, { last: 'same' }, 0);
    const second = tryAt(oncallBob(), v10, { last: 'same' }, 3);
    const next = tryAt(jane(), at(11, { last: 'same' }), { last: 'later' }, 20);
    expect([...supersededFinals([second, first, next])]).toEqual([second]);
  });

  it('the timeline leaves superseded tries out and counts them', () => {
    const janeTry = tryAt(jane(), v10, { last: 'jane' }, 0);
    const bobTry = tryAt(oncallBob(), v10, { last: 'bob' }, 2);
    const bobRetry = tryAt(oncallBob(), at(11, { last: 'jane' }), { last: 'bob' }, 20);
    const records = [janeTry, bobTry, bobRetry] as unknown as ReadRecord[];
    const { entries, stats } = buildTimeline(records, parseTarget('deploy/web', 'prod-shop'));
    expect(entries.map((e) => [e.actor.username, e.time])).toEqual([
      ['oidc:jane@example.com', janeTry.time],
      ['oidc:bob@example.com', bobRetry.time],
    ]);
    expect(stats.superseded).toBe(1);
    expect(stats.writes).toBe(2);
  });
});

describe('audit and superseded tries', () => {
  it('leaves out the violation records of tries that were not persisted, and counts them', () => {
    const v10 = at(10);
    const janeTry = tryAt(jane(), v10, { last: 'jane' }, 0);
    const bobTry = tryAt(oncallBob(), v10, { last: 'bob' }, 2);
    const bobRetry = tryAt(oncallBob(), at(11, { last: 'jane' }), { last: 'bob' }, 20);
    const audited = (final: ChangeRecord) => ({
      ...final,
      type: 'violation',
      decision: 'audited',
      allowed: true,
      mode: 'audit',
      policy: 'p',
      reason: 'r',
    });
    const records = [janeTry, bobTry, bobRetry, audited(janeTry), audited(bobTry), audited(bobRetry)] as unknown as ReadRecord[];
    expect([...supersededUids(records as unknown as DriftRecord[])]).toEqual([bobTry.uid]);
    const { entries, stats } = toEntries(records);
    expect(entries.map((e) => e.uid)).toEqual([janeTry.uid, bobRetry.uid]);
    expect(stats).toMatchObject({ violations: 2, changes: 3, superseded: 1 });
  });
});

describe('racing CREATEs of one name', () => {
  const create = (who: UserInfo, uid: string, atMs: number): ChangeRecord => {
    const obj = at(1) as any;
    delete obj.metadata.resourceVersion;
    obj.metadata.uid = uid;
    const review = buildReview({ operation: 'CREATE', userInfo: who, fieldManager: 'kubectl-create', object: obj });
    return changeRecord({
      request: review.request,
      stage: 'final',
      changes: [],
      truncated: false,
      actorClass: 'person',
      time: new Date(T0 + atMs),
    });
  };
  const updateOf = (uid: string, atMs: number): ChangeRecord => {
    const from = at(20) as any;
    from.metadata.uid = uid;
    return tryAt(jane(), from, { last: 'later' }, atMs);
  };

  it('keeps the one whose uid later writes carry; the others got AlreadyExists', () => {
    const a = create(jane(), 'uid-a', 0);
    const b = create(oncallBob(), 'uid-b', 3);
    const c = create(argocdController(), 'uid-c', 5);
    expect([...supersededFinals([a, b, c, updateOf('uid-b', 1_000)])]).toEqual([a, c]);
  });

  it('with no later write keeps the earliest; a CREATE after a DELETE, or long after, is a CREATE of its own', () => {
    const a = create(jane(), 'uid-a', 0);
    const b = create(oncallBob(), 'uid-b', 3);
    expect([...supersededFinals([b, a])]).toEqual([b]);
    const del = (() => {
      const review = buildReview({
        operation: 'DELETE',
        userInfo: jane(),
        oldObject: { ...(at(5) as any), metadata: { ...(at(5) as any).metadata, uid: 'uid-a' } },
      });
      return changeRecord({
        request: review.request,
        stage: 'final',
        changes: [{ path: '', op: 'remove' }],
        truncated: false,
        actorClass: 'person',
        time: new Date(T0 + 1),
      });
    })();
    expect(supersededFinals([a, del, b]).size).toBe(0);
    expect(supersededFinals([a, create(oncallBob(), 'uid-b', 3_600_000)]).size).toBe(0);
  });
});
