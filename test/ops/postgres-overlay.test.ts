/** manifests/overlays/postgres, rendered with the real `kubectl kustomize`: the store URL from a Secret, a spool volume, egress to 5432. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/cli/serve.js';
import { retentionMs } from '../../src/cli/store.js';
import { copyManifests, find, kustomize, type Obj } from '../support/kustomize.js';
import { cli } from '../support/cli.js';

let objects: Obj[];

beforeAll(async () => {
  const copy = copyManifests();
  const made = await cli(['certs', '--out', 'manifests/certs'], { cwd: copy.dir, now: new Date() });
  expect(made.code, made.stderr).toBe(0);
  objects = await kustomize(path.join(copy.manifests, 'overlays', 'postgres'));
});

describe('the postgres overlay', () => {
  it('serve reads the store URL from the mounted Secret and spools to its own volume', () => {
    const dep = find(objects, 'Deployment', 'driftguard');
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(expect.arrayContaining(['--store-url-file=/etc/driftguard/store/url', '--store-retention=400d']));
    expect(c.args.join(' ')).not.toMatch(/postgres:\/\//);
    const mount = c.volumeMounts.find((m: Obj) => m.mountPath === '/etc/driftguard/store');
    expect(pod.volumes.find((v: Obj) => v.name === mount.name).secret.secretName).toBe('driftguard-store');
    const spool = c.args.find((a: string) => a.startsWith('--store-spool='))!.split('=')[1];
    const spoolMount = c.volumeMounts.find((m: Obj) => spool.startsWith(`${m.mountPath}/`));
    expect(pod.volumes.find((v: Obj) => v.name === spoolMount.name).emptyDir).toBeDefined();
  });

  it("the overlay's size and retention are values serve takes", () => {
    const c = find(objects, 'Deployment', 'driftguard').spec.template.spec.containers[0];
    const value = (flag: string) => (c.args as string[]).find((a) => a.startsWith(`${flag}=`))!.split('=')[1]!;
    expect(parseByteSize(value('--store-spool-max-bytes'), '--store-spool-max-bytes')).toBe(384 * 1024 * 1024);
    expect(retentionMs(value('--store-retention'))).toBe(400 * 86_400_000);
  });

  it('a NetworkPolicy lets driftguard reach PostgreSQL on 5432', () => {
    const np = find(objects, 'NetworkPolicy', 'driftguard-store');
    expect(np.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'driftguard' });
    expect(np.spec.egress.flatMap((e: Obj) => e.ports.map((p: Obj) => p.port))).toEqual([5432]);
  });
});
