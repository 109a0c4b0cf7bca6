/** One ObjectRef for the object a request targets: built from a request or a record, named one way. */
import { describe as group, expect, it } from 'vitest';
import type { AdmissionRequest } from '../../src/k8s/admission.js';
import {
  apiVersion,
  describe,
  describeQuery,
  describeRequested,
  describeResource,
  fromRecord,
  fromRequest,
  key,
} from '../../src/k8s/object-ref.js';
import { recordResource } from '../../src/records/builders.js';
import { readJson } from '../support/fixtures.js';

const request = (file: string) => readJson<{ request: AdmissionRequest }>('reviews', file).request;

group('ObjectRef', () => {
  it('a kubectl scale targets the Deployment: its kind, group and version, not the Scale’s', () => {
    const ref = fromRequest(request('kubectl-scale-prod-v1beta1.json'));
    expect(ref).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      subResource: 'scale',
      kind: 'Deployment',
      requestKind: 'Scale',
      namespace: 'prod-shop',
      name: 'web',
      uid: '6f1c2b9e-3d4a-4c1e-9a57-2b8f0c7d1e21',
    });
    expect(apiVersion(ref)).toBe('apps/v1');
    expect(describe(ref)).toBe('Deployment prod-shop/web');
    // A denial names what the request asked to change.
    expect(describeRequested(ref)).toBe('deployments/scale prod-shop/web');
  });

  it('an edit of the object itself: describe and describeRequested agree', () => {
    const ref = fromRequest(request('kubectl-edit-prod.json'));
    expect(ref.requestKind).toBeUndefined();
    expect(ref.subResource).toBeUndefined();
    expect(describe(ref)).toBe('Deployment prod-shop/web');
    expect(describeRequested(ref)).toBe('Deployment prod-shop/web');
  });

  it('the scale and the edit of one Deployment have one key', () => {
    expect(key(fromRequest(request('kubectl-scale-prod-v1beta1.json')))).toBe(key(fromRequest(request('kubectl-edit-prod.json'))));
    expect(key(fromRequest(request('kubectl-edit-prod.json')))).toBe('apps/deployments/prod-shop/web');
    expect(key({ group: '', resource: 'namespaces', name: 'prod' })).toBe('/namespaces//prod');
  });

  it('a record names the same object as the request it was written from', () => {
    for (const file of ['kubectl-scale-prod-v1beta1.json', 'kubectl-edit-prod.json']) {
      const req = request(file);
      const fromDisk = fromRecord(recordResource(req));
      const { uid: _uid, ...live } = fromRequest(req);
      expect(fromDisk).toEqual(live);
    }
  });

  it('a record of a generateName CREATE names the object by its prefix and a star', () => {
    const ref = fromRecord({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace: 'ci', generateName: 'build-' });
    expect(describe(ref)).toBe('Pod ci/build-*');
    expect(describeResource(ref)).toBe('pods/build-*');
    expect(describeResource(fromRecord(recordResource(request('kubectl-scale-prod-v1beta1.json'))))).toBe('deployments.apps/web/scale');
    expect(describe(fromRecord({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace: 'ci' }))).toBe('Pod ci/');
  });

  it('a cluster-scoped object has no namespace in its name; a custom resource’s Scale falls back to the plural', () => {
    expect(describe(fromRecord({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', name: 'prod' }))).toBe(
      'Namespace prod',
    );
    // The kubectl scale's record, as if it had scaled an Argo Rollout.
    const scaled = recordResource(request('kubectl-scale-prod-v1beta1.json'));
    const rollout = fromRecord({ ...scaled, group: 'argoproj.io', version: 'v1alpha1', resource: 'rollouts', namespace: 'prod' });
    expect(describe(rollout)).toBe('rollouts prod/web');
    expect(describeRequested(rollout)).toBe('rollouts/scale prod/web');
    expect(apiVersion({ group: '', version: 'v1' })).toBe('v1');
  });

  it('names an object asked for on the command line', () => {
    expect(describeQuery({ resource: 'deployments', group: 'apps', namespace: 'prod', name: 'web' })).toBe(
      'deployments.apps/web in namespace prod',
    );
    expect(describeQuery({ resource: 'namespaces', name: 'prod' })).toBe('namespaces/prod');
  });
});
