/**
 * A `kubectl scale` of an Argo CD-managed Deployment, with no cluster to ask: the owner in its
 * record comes from the parent, learnt from any earlier review of it — a denied one included, since
 * the `oldObject` of a review is the stored object — and `audit` names that owner.
 */
import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { cli } from '../support/cli.js';
import { edited, object, SAMPLE_POLICIES } from '../support/fixtures.js';
import { jane } from '../support/identities.js';
import { judge, policies } from '../support/judge.js';

const web = object('deployment-prod-web');
const scale = () =>
  buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    object: edited(web, (o) => (o.spec.replicas = 9)),
    oldObject: web,
    subResource: 'scale',
  });
const imageEdit = () =>
  buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    object: edited(web, (o) => (o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:9')),
    oldObject: web,
  });

describe('the owner of a Scale is its parent’s', () => {
  it('a parent seen only in a denied request is known: the scale record carries the Argo CD owner', async () => {
    const set = await policies(SAMPLE_POLICIES);
    const parents = new ParentResolver();
    const edit = await judge(imageEdit(), set, { parents });
    expect(edit.response.allowed).toBe(false);
    const scaled = await judge(scale(), set, { parents });
    expect(scaled.response.allowed).toBe(false);
    expect(scaled.records).toHaveLength(1);
    expect(scaled.records[0].owner).toEqual({ tool: 'argocd', application: 'shop', source: 'tracking-id' });
  });

  it('a dry run teaches it too; a denied DELETE does not make it forget', async () => {
    const set = await policies(SAMPLE_POLICIES);
    const parents = new ParentResolver();
    const dry = imageEdit();
    dry.request.dryRun = true;
    await judge(dry, set, { parents });
    const del = buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web });
    expect((await judge(del, set, { parents })).response.allowed).toBe(false);
    expect((await judge(scale(), set, { parents })).records[0].owner).toMatchObject({ tool: 'argocd', application: 'shop' });
  });

  it('audit: TOP OBJECTS names the owner even when the first record of the object is a scale without one', async () => {
    const set = await policies(SAMPLE_POLICIES);
    const early = await judge(scale(), set, { parents: new ParentResolver() }); // nothing known yet
    expect(early.records[0].owner).toBeUndefined();
    const later = await judge(imageEdit(), set, { now: new Date('2026-11-24T13:00:00Z') });
    const lines = [...early.records, ...later.records].map((r) => JSON.stringify(r)).join('\n');
    const r = await cli(['audit', '-', '-o', 'json'], { stdin: lines });
    const objects = JSON.parse(r.stdout).summary.objects as Array<{ key: string; owner: string }>;
    expect(objects).toHaveLength(1);
    expect(objects[0]!.owner).toBe('Argo CD application shop');
  });
});
