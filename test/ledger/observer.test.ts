/**
 * The observers and the final stage over real HTTPS with the sample policies: what is recorded,
 * what is not, and that an observer never blocks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import type { AdmissionResponse, KubeObject } from '../../src/k8s/admission.js';
import type { ChangeRecord } from '../../src/records/record.js';
import { memorySink } from '../../src/records/sink.js';
import { cli as runCli } from '../support/cli.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { argocdController, deploymentController, fluxKustomize, jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { StoredObject } from '../support/stages.js';

const ROUTES = ['/observe/entry', '/observe/exit', '/validate'] as const;
const STAGE_ORDER = ['entry', 'exit', 'final'];

/**
 * Records as the test server's flushSync() left them on disk. A flushSync while a write is still in
 * flight can put a later line first (readers order by time), so these tests compare by stage.
 */
function byStage(records: any[]): any[] {
  return [...records].sort((x, y) => STAGE_ORDER.indexOf(x.stage) - STAGE_ORDER.indexOf(y.stage));
}

describe('observers over HTTPS (sample policies)', () => {
  let server: TestServer;
  const hooked: ChangeRecord[] = [];

  beforeAll(async () => {
    server = await startTestServer({ deps: { hooks: { onChangeRecord: (r) => hooked.push(r) } } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const changeRecords = () => server.records().filter((r) => r.type === 'change');

  async function throughAll(review: unknown): Promise<AdmissionResponse[]> {
    const out: AdmissionResponse[] = [];
    for (const route of ROUTES) {
      const res = await server.review(review, route);
      expect(res.status).toBe(200);
      out.push(res.json.response);
    }
    return out;
  }

  it('answers a malformed review allowed, echoing the uid, where /validate answers 400', async () => {
    const bad = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u-123', operation: 'PATCH' } };
    for (const route of ['/observe/entry', '/observe/exit']) {
      const res = await server.review(bad, route);
      expect(res.status).toBe(200);
      expect(res.json.response).toEqual({ uid: 'u-123', allowed: true });
    }
    const validate = await server.review(bad, '/validate');
    expect(validate.json.response).toMatchObject({ uid: 'u-123', allowed: false, status: { code: 400 } });
  });

  it('answers a v1beta1 review in v1beta1, allowed, without a patch', async () => {
    const review = readJson('reviews', 'kubectl-scale-prod-v1beta1.json') as { request: { uid: string } };
    const res = await server.review(review, '/observe/entry');
    expect(res.json).toEqual({
      apiVersion: 'admission.k8s.io/v1beta1',
      kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: true },
    });
  });

  it('leaves no record for dry runs (Flux dry-run apply, kubectl --dry-run=server), at any stage', async () => {
    const before = changeRecords().length;
    const stored = object('deployment-flux-api');
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: fluxKustomize(),
      fieldManager: 'kustomize-controller',
      dryRun: true,
      oldObject: stored,
      object: edited(stored, (o) => (o.spec.replicas = 4)),
    });
    const answers = await throughAll(review);
    expect(answers.every((r) => r.allowed)).toBe(true);
    const denied = await throughAll(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        fieldManager: 'kubectl-edit',
        dryRun: true,
        oldObject: stored,
        object: edited(stored, (o) => (o.spec.replicas = 9)),
      }),
    );
    expect(denied[2]!.allowed).toBe(false);
    expect(changeRecords().length).toBe(before);
    // The same write for real is recorded at all three points.
    await throughAll({
      ...review,
      request: {
        ...review.request,
        dryRun: false,
        options: { kind: 'UpdateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'kustomize-controller' },
      },
    });
    const added = byStage(changeRecords().slice(before));
    expect(added.map((r) => r.stage)).toEqual(['entry', 'exit', 'final']);
    expect(added.every((r) => r.actorClass === 'gitops' && r.owner?.tool === 'flux')).toBe(true);
    expect(added[2]!.changes).toEqual([{ path: '/spec/replicas', op: 'replace', old: 3, new: 4 }]);
  });

  it('records nothing for an object no policy covers', async () => {
    const before = changeRecords().length;
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'notes', namespace: 'default', resourceVersion: '7' },
      data: { a: '1' },
    };
    await throughAll(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        fieldManager: 'kubectl-edit',
        oldObject: cm,
        object: edited(cm, (o) => (o.data.a = '2')),
      }),
    );
    expect(changeRecords().length).toBe(before);
  });

  it('records nothing for a controller status write that changes nothing but status', async () => {
    const before = changeRecords().length;
    const stored = object('deployment-prod-web');
    const review = buildReview({
      operation: 'UPDATE',
      subResource: 'status',
      userInfo: deploymentController(),
      fieldManager: 'kube-controller-manager',
      oldObject: stored,
      object: edited(stored, (o) => (o.status.readyReplicas = 2)),
    });
    const answers = await throughAll(review);
    expect(answers.every((r) => r.allowed)).toBe(true);
    expect(changeRecords().length).toBe(before);
  });

  it("records an entry even when the requester changed nothing, so exit-only fields are the webhooks'", async () => {
    const before = changeRecords().length;
    const stored = object('deployment-prod-web');
    const same = edited(stored, () => {});
    same.metadata!.resourceVersion = stored.metadata!.resourceVersion;
    await throughAll(
      buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        oldObject: stored,
        object: same,
      }),
    );
    const added = changeRecords().slice(before);
    expect(added.map((r) => [r.stage, r.changes.length])).toEqual([['entry', 0]]);
  });

  it('never writes a Secret value, at any stage', async () => {
    const before = changeRecords().length;
    const stored = object('secret-flux-db');
    const next = edited(stored, (o) => {
      o.data.password = 'bmV3LXNlY3JldC12YWx1ZQ==';
      o.stringData = { token: 'plain-text-token' };
    });
    await throughAll(
      buildReview({
        operation: 'UPDATE',
        userInfo: fluxKustomize(),
        fieldManager: 'kustomize-controller',
        oldObject: stored,
        object: next,
      }),
    );
    const added = byStage(changeRecords().slice(before));
    expect(added.map((r) => r.stage)).toEqual(['entry', 'exit', 'final']);
    const text = readFileSync(server.recordsFile, 'utf8');
    for (const secret of ['bmV3LXNlY3JldC12YWx1ZQ==', 'czNjcjN0LUh1bnRlcjItb2xk', 'plain-text-token']) expect(text).not.toContain(secret);
    expect(added[2]!.changes).toContainEqual({ path: '/data/password', op: 'replace', old: '[REDACTED]', new: '[REDACTED]' });
    expect(added[2]!.changes).toContainEqual({ path: '/stringData/token', op: 'add', new: '[REDACTED]' });
  });

  it('pairs a generateName CREATE: the observers saw no name, the validating webhook the generated one', async () => {
    let now = new Date('2026-11-24T12:00:00Z');
    const story = new StoredObject(() => now);
    const stages = story.write({
      operation: 'CREATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      sent: object('configmap-generate-name'),
    });
    expect(stages.entry.request.object?.metadata?.name).toBeUndefined();
    const generated = stages.final.request.object!.metadata!.name!;
    expect(generated).toMatch(/^web-config-/);
    const before = changeRecords().length;
    await server.review(stages.entry, '/observe/entry');
    await server.review(stages.exit, '/observe/exit');
    await server.review(stages.final, '/validate');
    const added = byStage(changeRecords().slice(before));
    expect(added.map((r) => r.resource.name)).toEqual([undefined, undefined, generated]);
    expect(new Set(added.map((r) => r.correlation))).toEqual(
      new Set([`CREATE /configmaps prod-shop/web-config-* - ${argocdController().username}`]),
    );
    const history = await runCli(['history', `cm/${generated}`, '-n', 'prod-shop', server.recordsFile, '-o', 'json']);
    const entries = JSON.parse(history.stdout).entries;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'write', operation: 'CREATE', stages: ['entry', 'exit', 'final'] });
    expect(entries[0].changes).toContainEqual({ path: '/data/LOG_LEVEL', op: 'add', new: 'debug', by: 'requester' });
    now = new Date();
  });

  it('calls onChangeRecord with every change record it writes', () => {
    const key = (r: { uid: string; stage: string }) => `${r.uid} ${r.stage}`;
    const written = changeRecords();
    expect(written.length).toBeGreaterThan(8);
    expect(hooked.map(key).sort()).toEqual(written.map(key).sort());
  });
});

describe('an observer never blocks', () => {
  it('answers allowed when writing the record fails, where the validating webhook answers 500', async () => {
    const broken = {
      ...memorySink(),
      write: () => {
        throw new Error('disk on fire');
      },
    };
    const server = await startTestServer({ deps: { records: broken } });
    try {
      const stored = object('deployment-prod-web');
      const review = buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        oldObject: stored,
        object: edited(stored, (o) => (o.spec.replicas = 4)),
      });
      for (const route of ['/observe/entry', '/observe/exit']) {
        const res = await server.review(review, route);
        expect(res.status).toBe(200);
        expect(res.json.response).toEqual({ uid: review.request.uid, allowed: true });
      }
      const validate = await server.review(review, '/validate');
      expect(validate.status).toBe(500);
      expect(validate.json.response.uid).toBe(review.request.uid);
    } finally {
      await server.close();
    }
  });

  it('answers allowed, and keeps the record, when the onChangeRecord hook throws', async () => {
    const server = await startTestServer({
      deps: {
        hooks: {
          onChangeRecord: () => {
            throw new Error('metrics broke');
          },
        },
      },
    });
    try {
      const stored = object('deployment-prod-web');
      const review = buildReview({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        oldObject: stored,
        object: edited(stored, (o) => (o.spec.replicas = 4)),
      });
      const entry = await server.review(review, '/observe/entry');
      expect(entry.json.response.allowed).toBe(true);
      const validate = await server.review(review, '/validate');
      expect(validate.json.response.allowed).toBe(true);
      expect(byStage(server.records()).map((r) => r.stage)).toEqual(['entry', 'final']);
    } finally {
      await server.close();
    }
  });
});

describe('records file across restarts and rotation (server)', () => {
  it('a restarted server appends; a rotated file is still read', async () => {
    const first = await startTestServer({ config: { recordsRotation: { maxBytes: 2048, maxFiles: 20 } } });
    const file = first.recordsFile;
    const stored = object('deployment-prod-web');
    const send = async (s: TestServer, n: number) => {
      for (let i = 0; i < n; i++) {
        const review = buildReview({
          operation: 'UPDATE',
          userInfo: jane(),
          fieldManager: 'kubectl-edit',
          oldObject: stored,
          object: edited(stored, (o) => (o.spec.replicas = 10 + i)),
        });
        await s.review(review, '/validate');
      }
    };
    await send(first, 6);
    await first.close();
    const second = await startTestServer({ config: { records: file, recordsRotation: { maxBytes: 2048, maxFiles: 20 } } });
    await send(second, 6);
    await second.close();
    expect(existsSync(`${file}.1`)).toBe(true);
    const history = await runCli(['history', 'deploy/web', '-n', 'prod-shop', file, '-o', 'json']);
    const entries = JSON.parse(history.stdout).entries;
    // Twelve denied edits (jane may not edit prod), none lost across the restart and the rotations.
    expect(entries).toHaveLength(12);
    expect(entries.every((e: any) => e.kind === 'denied')).toBe(true);
  });
});
