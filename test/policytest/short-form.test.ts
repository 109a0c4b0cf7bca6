/**
 * The short form builds the review the API server would send (docs/kubernetes.md): field
 * managers as kubectl sets them, Scale objects without labels, null objects, options, dry runs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/k8s/admission.js';
import { buildShortForm, mergePatch } from '../../src/policytest/request.js';
import type { ShortRequest } from '../../src/policytest/suite.js';
import { REPO } from '../support/fixtures.js';

const NOW = new Date('2026-11-24T12:34:56.789Z');
const objects = path.join(REPO, 'policies/library/tests/objects');
const ctx = { readObject: (f: string) => parse(readFileSync(path.join(objects, f), 'utf8')) as KubeObject, now: NOW };
const jane = { user: 'oidc:jane@example.com', groups: ['oidc:developers'] };

function build(req: Partial<ShortRequest>) {
  return buildShortForm({ actor: jane, ...req } as ShortRequest, ctx);
}

describe('short-form requests', () => {
  it('kubectl scale: UPDATE of deployments/scale with Scale objects that carry no labels and no field manager', () => {
    const built = build({ via: 'kubectl-scale', oldObject: 'deployment-argocd.yaml', patch: { spec: { replicas: 8 } } });
    const r = built.review.request;
    expect(r.operation).toBe('UPDATE');
    expect(r.subResource).toBe('scale');
    expect(r.kind).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
    expect(r.resource).toEqual({ group: 'apps', version: 'v1', resource: 'deployments' });
    expect(r.object).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 8 },
      status: { replicas: 3, selector: 'app.kubernetes.io/name=web' },
    });
    expect(r.oldObject).toMatchObject({ kind: 'Scale', spec: { replicas: 3 } });
    expect(Object.keys(r.object!.metadata!).sort()).toEqual(['creationTimestamp', 'name', 'namespace', 'resourceVersion', 'uid']);
    expect(r.options).toEqual({ kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1' });
    expect(built.parent?.metadata?.labels).toMatchObject({ 'app.kubernetes.io/instance': 'shop' });
    expect(build({ via: 'kubectl-scale', oldObject: 'deployment-argocd.yaml', parent: 'unknown' }).parent).toBeUndefined();
  });

  it('rollout restart stamps restartedAt (RFC 3339, seconds) with field manager kubectl-rollout', () => {
    const r = build({ via: 'kubectl-rollout-restart', oldObject: 'deployment-argocd.yaml' }).review.request;
    const annotations = (r.object as any).spec.template.metadata.annotations;
    expect(annotations).toEqual({ 'prometheus.io/scrape': 'true', 'kubectl.kubernetes.io/restartedAt': '2026-11-24T12:34:56Z' });
    expect(r.options).toEqual({ kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kubectl-rollout' });
  });

  it('an UPDATE bumps the generation when spec changes and records the field manager in managedFields', () => {
    const r = build({ via: 'kubectl-edit', oldObject: 'deployment-argocd.yaml', patch: { spec: { replicas: 4 } } }).review.request;
    expect(r.oldObject!.metadata!.generation).toBe(7);
    expect(r.object!.metadata!.generation).toBe(8);
    const managers = (r.object!.metadata!.managedFields as any[]).map((m) => `${m.manager}/${m.operation}`);
    expect(managers).toEqual(['argocd-controller/Apply', 'kube-controller-manager/Update', 'kubectl-edit/Update']);
    const labelOnly = build({ via: 'kubectl-label', oldObject: 'deployment-argocd.yaml', patch: { metadata: { labels: { x: 'y' } } } })
      .review.request;
    expect(labelOnly.object!.metadata!.generation).toBe(7);
  });

  it.each([
    ['kubectl-edit', 'kubectl-edit'],
    ['kubectl-patch', 'kubectl-patch'],
    ['kubectl-label', 'kubectl-label'],
    ['kubectl-annotate', 'kubectl-annotate'],
    ['kubectl-apply', 'kubectl-client-side-apply'],
    ['kubectl-apply-server-side', 'kubectl'],
    ['kubectl-set', 'kubectl-set'],
    ['kubectl-replace', 'kubectl-replace'],
    ['argocd', 'argocd-controller'],
    ['flux', 'kustomize-controller'],
  ] as const)('%s sends fieldManager %s', (via, manager) => {
    expect(build({ via, oldObject: 'deployment-argocd.yaml' }).review.request.options).toMatchObject({
      kind: 'UpdateOptions',
      fieldManager: manager,
    });
  });

  it('server-side apply is an Apply in managedFields', () => {
    const r = build({ via: 'kubectl-apply-server-side', oldObject: 'deployment-argocd.yaml', patch: { spec: { replicas: 1 } } }).review
      .request;
    expect((r.object!.metadata!.managedFields as any[]).at(-1)).toMatchObject({
      manager: 'kubectl',
      operation: 'Apply',
      time: '2026-11-24T12:34:56Z',
    });
  });

  it('CREATE has a null oldObject and CreateOptions; DELETE a null object and DeleteOptions', () => {
    const c = build({ via: 'kubectl-create', object: 'configmap-argocd.yaml', namespace: 'prod-new' }).review.request;
    expect(c).toMatchObject({
      operation: 'CREATE',
      oldObject: null,
      namespace: 'prod-new',
      options: { kind: 'CreateOptions', fieldManager: 'kubectl-create' },
    });
    expect(c.object!.metadata!.namespace).toBe('prod-new');
    const d = build({ via: 'kubectl-delete', oldObject: 'configmap-argocd.yaml' }).review.request;
    expect(d).toMatchObject({ operation: 'DELETE', object: null, options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' } });
    expect(d.oldObject!.metadata!.name).toBe('web-config');
    expect(() => build({ via: 'kubectl-delete', oldObject: 'configmap-argocd.yaml', patch: { data: {} } })).toThrow(
      /a DELETE takes no patch/,
    );
    expect(() => build({ via: 'kubectl-create', oldObject: 'configmap-argocd.yaml' })).toThrow(/a CREATE needs `object`/);
  });

  it('dry run, v1beta1, service accounts and presets', () => {
    const r = build({
      actor: { preset: 'flux' },
      via: 'flux',
      oldObject: 'deployment-flux.yaml',
      dryRun: true,
      apiVersion: 'admission.k8s.io/v1beta1',
    } as Partial<ShortRequest>).review;
    expect(r.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(r.request.dryRun).toBe(true);
    expect(r.request.options).toMatchObject({ dryRun: ['All'] });
    expect(r.request.userInfo.username).toBe('system:serviceaccount:flux-system:kustomize-controller');
    expect(r.request.userInfo.groups).toEqual(['system:serviceaccounts', 'system:serviceaccounts:flux-system', 'system:authenticated']);
    const p = build({ actor: { user: 'alice' }, oldObject: 'deployment-flux.yaml' } as Partial<ShortRequest>).review.request;
    expect(p.userInfo).toEqual({ username: 'alice', groups: ['system:authenticated'] });
  });

  it('every call gets a fresh uid', () => {
    const a = build({ via: 'kubectl-edit', oldObject: 'deployment-argocd.yaml' }).review.request.uid;
    const b = build({ via: 'kubectl-edit', oldObject: 'deployment-argocd.yaml' }).review.request.uid;
    expect(a).not.toBe(b);
  });

  it('patches: JSON merge patch (null removes) and JSON Patch', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] })).toEqual({ a: { c: 2, e: 3 }, d: [2] });
    const r = build({
      oldObject: 'deployment-argocd.yaml',
      jsonPatch: [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'X', value: '1' } }],
    }).review.request;
    expect((r.object as any).spec.template.spec.containers[0].env.at(-1)).toEqual({ name: 'X', value: '1' });
    expect((r.oldObject as any).spec.template.spec.containers[0].env).toHaveLength(2);
  });
});
