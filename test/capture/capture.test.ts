/**
 * serve --capture-dir: covered reviews are written redacted, off the hot path, and replay with
 * `policy test` to the answers they got. Real HTTPS server, real files.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildReview, serviceAccount } from '../../src/admission/build.js';
import { validate } from '../../src/admission/handler.js';
import type { UserInfo } from '../../src/k8s/admission.js';
import { createRedactor, REDACTED_PREFIX } from '../../src/capture/redact.js';
import { captureWriter, openCapture } from '../../src/capture/writer.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { loadPolicies } from '../../src/policy/load.js';
import { memorySink } from '../../src/records/sink.js';
import { cli } from '../support/cli.js';
import { edited, object, readJson, SAMPLE_POLICIES } from '../support/fixtures.js';
import { postJson } from '../support/https.js';
import { argocdController, jane } from '../support/identities.js';
import { startTestServer } from '../support/server.js';
import { spawnServe } from '../support/subprocess.js';

const NOW = new Date('2026-11-24T12:00:00Z');

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `driftguard-${prefix}-`));
}

function logSink(): { logger: pino.Logger; lines: () => any[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines: () => lines.map((l) => JSON.parse(l)) };
}

/** A ServiceAccount token's extras as the API server adds them (domain notes, Identities). */
function debuggerPod(): UserInfo {
  return {
    ...serviceAccount('apps-team', 'debugger'),
    extra: {
      'authentication.kubernetes.io/credential-id': ['JTI=7c4f0a52-2d1e-4b3a-9f8e-1a2b3c4d5e6f'],
      'authentication.kubernetes.io/pod-name': ['debugger-6d9f7'],
      'authentication.kubernetes.io/pod-uid': ['0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'],
      'oidc.example.com/access-token': ['eyJhbGciOiJSUzI1NiJ9.secret'],
    },
  };
}

const secret = () => object('secret-flux-db');
/** Values that must never reach a capture file: the Secret's data, decoded, and the new one. */
const SECRET_VALUES = [
  'czNjcjN0LUh1bnRlcjItb2xk',
  's3cr3t-Hunter2-old',
  'bmV3LXMzY3IzdA==',
  'new-s3cr3t',
  'c2hvcA==',
  'JTI=7c4f0a52',
  'eyJhbGciOiJSUzI1NiJ9',
];

function secretEdit() {
  return buildReview({
    operation: 'UPDATE',
    userInfo: debuggerPod(),
    oldObject: secret(),
    object: edited(secret(), (o) => {
      o.data.password = 'bmV3LXMzY3IzdA==';
      o.stringData = { token: 'new-s3cr3t' };
    }),
    fieldManager: 'kubectl-edit',
  });
}

describe('redaction', () => {
  it('replaces Secret values and last-applied with keyed digests that keep equal values equal', () => {
    const review = secretEdit();
    const { request, redacted } = createRedactor().request(review.request);
    const text = JSON.stringify(request);
    for (const v of SECRET_VALUES) expect(text).not.toContain(v);
    const data = (request.object as any).data;
    const old = (request.oldObject as any).data;
    expect(data.password.startsWith(REDACTED_PREFIX)).toBe(true);
    expect(data.password).not.toBe(old.password);
    expect(data.username).toBe(old.username);
    expect((request.object as any).stringData.token.startsWith(REDACTED_PREFIX)).toBe(true);
    expect(request.oldObject!.metadata!.annotations!['kubectl.kubernetes.io/last-applied-configuration']!.startsWith(REDACTED_PREFIX)).toBe(
      true,
    );
    expect(redacted).toEqual(
      expect.arrayContaining([
        'object/data',
        'object/stringData',
        'oldObject/data',
        'userInfo/extra/authentication.kubernetes.io~1credential-id',
        'userInfo/extra/oidc.example.com~1access-token',
      ]),
    );
    // The request the handler answered is untouched.
    expect((review.request.object as any).data.password).toBe('bmV3LXMzY3IzdA==');
  });

  it('keeps who and where in userInfo.extra, drops how they authenticated', () => {
    const { request } = createRedactor().request(secretEdit().request);
    expect(Object.keys(request.userInfo.extra ?? {}).sort()).toEqual([
      'authentication.kubernetes.io/pod-name',
      'authentication.kubernetes.io/pod-uid',
    ]);
    const noExtra = createRedactor().request(
      buildReview({ operation: 'DELETE', userInfo: { username: 'x', extra: { token: ['t'] } }, oldObject: secret() }).request,
    );
    expect(noExtra.request.userInfo).toEqual({ username: 'x' });
  });

  it('two processes give unrelated tokens: the key never leaves memory', () => {
    const a = createRedactor().request(secretEdit().request).request as any;
    const b = createRedactor().request(secretEdit().request).request as any;
    expect(a.object.data.password).not.toBe(b.object.data.password);
  });
});

describe('capture through a running server, then replay', () => {
  it('writes each covered review once, redacted, with its answer; replay with policy test passes, and fails when a policy changes', async () => {
    const dir = tempDir('capture');
    const captures = path.join(dir, 'captures');
    const logs = logSink();
    const capture = await openCapture({ dir: captures }, { logger: logs.logger, clock: () => NOW });
    const srv = await startTestServer({ deps: { hooks: capture.hooks } });
    try {
      const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
      const sync = readJson<any>('reviews', 'argocd-update-prod.json');
      const secretReview = secretEdit();
      const elsewhere = buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        oldObject: object('deployment-prod-web'),
        object: edited(object('deployment-prod-web'), (o) => (o.metadata.namespace = 'dev')),
        fieldManager: 'kubectl-edit',
      });
      elsewhere.request.namespace = 'dev';
      (elsewhere.request.oldObject as any).metadata.namespace = 'dev';
      const dry = buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        oldObject: object('deployment-prod-web'),
        object: edited(object('deployment-prod-web'), (o) => (o.spec.replicas = 1)),
        fieldManager: 'kubectl',
        dryRun: true,
      });

      const answers = [];
      for (const body of [edit, sync, secretReview, elsewhere, dry]) answers.push((await srv.review(body)).json.response);
      expect(answers.map((a) => a.allowed)).toEqual([false, true, false, true, false]);
      await capture.drain();

      const files = readdirSync(captures).sort();
      expect(files).toHaveLength(3); // the uncovered review and the dry run are not captured
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(files.map((f) => f.replace(/^\d{8}T\d{6}\.\d{3}Z-\d{6}-/, '').replace(/-[0-9a-f]{8}\.json$/, ''))).toEqual(
        expect.arrayContaining(['denied-prod-shop-web', 'allowed-prod-shop-web', 'denied-apps-team-db']),
      );
      const bySuffix = (uid: string) =>
        JSON.parse(
          readFileSync(
            path.join(
              captures,
              files.find((f) => f.endsWith(`-${uid.slice(0, 8)}.json`))!,
            ),
            'utf8',
          ),
        );
      const capturedEdit = bySuffix(edit.request.uid);
      expect(capturedEdit).toMatchObject({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: edit.request.uid },
        response: { allowed: false, status: { code: 403 } },
      });
      expect(capturedEdit.request.object.spec).toEqual(edit.request.object.spec);
      const secretText = readFileSync(
        path.join(
          captures,
          files.find((f) => f.includes('apps-team-db'))!,
        ),
        'utf8',
      );
      for (const v of SECRET_VALUES) expect(secretText).not.toContain(v);
      expect(capture.stats()).toMatchObject({ written: 3, dropped: 0, failed: 0, queued: 0 });

      // Replay: the captures are a suite's cases; each expects the answer it got.
      const suite = path.join(dir, 'driftguard-test.yaml');
      writeFileSync(
        suite,
        `apiVersion: driftguard.io/v1alpha1\nkind: DriftPolicyTest\nmetadata: {name: replay}\npolicies: [${JSON.stringify(SAMPLE_POLICIES)}]\nnow: "2026-11-24T12:00:00Z"\ncases:\n  - review: "captures/*.json"\n`,
      );
      const replay = await cli(['policy', 'test', dir, '-o', 'json']);
      const out = JSON.parse(replay.stdout);
      expect(out.suites[0].cases.map((c: any) => [c.status, c.expected.from])).toEqual([
        ['passed', 'capture'],
        ['passed', 'capture'],
        ['passed', 'capture'],
      ]);
      expect(replay.code).toBe(0);

      // The same captures against a policy set where argocd-prod only warns: the replay catches it.
      const changed = path.join(dir, 'policies');
      mkdirSync(changed);
      for (const f of ['argocd-prod.yaml', 'flux.yaml', 'staging-warn.yaml']) cpSync(path.join(SAMPLE_POLICIES, f), path.join(changed, f));
      const prod = path.join(changed, 'argocd-prod.yaml');
      writeFileSync(prod, readFileSync(prod, 'utf8').replace('mode: enforce', 'mode: warn'));
      writeFileSync(suite, readFileSync(suite, 'utf8').replace(JSON.stringify(SAMPLE_POLICIES), JSON.stringify(changed)));
      const drifted = await cli(['policy', 'test', dir]);
      expect(drifted.code).toBe(1);
      expect(drifted.stdout).toContain('- result: expected denied, got warned');
      expect(drifted.stdout).toContain('3 case(s): 2 passed, 1 failed, 0 error(s)');
    } finally {
      await srv.close();
    }
  });

  it('never changes an answer when writes fail; failures are logged', async () => {
    const logs = logSink();
    const failing = {
      writeFile: (async () => Promise.reject(new Error('ENOSPC: no space left on device'))) as unknown as typeof writeFile,
      rename: (async () => undefined) as any,
    };
    const capture = captureWriter({ dir: '/nonexistent' }, { logger: logs.logger, clock: () => NOW, fs: failing });
    const srv = await startTestServer({ deps: { hooks: capture.hooks } });
    try {
      const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
      const res = await srv.review(edit);
      expect(res.json.response).toMatchObject({ uid: edit.request.uid, allowed: false, status: { code: 403 } });
      await capture.drain();
      expect(capture.stats()).toMatchObject({ written: 0, failed: 1 });
      expect(logs.lines().find((l) => l.code === 'DG_CAPTURE')).toMatchObject({
        msg: 'could not write a captured review',
        err: { message: expect.stringContaining('ENOSPC') },
      });
    } finally {
      await srv.close();
    }
  });
});

describe('the queue', () => {
  async function handlerWith(hooks: ReturnType<typeof captureWriter>['hooks']) {
    const set = await loadPolicies([SAMPLE_POLICIES]);
    return (body: any) =>
      validate(body.request, {
        policies: () => set,
        parents: new ParentResolver(),
        records: memorySink(),
        clock: () => NOW,
        logger: pino({ level: 'silent' }),
        hooks,
      });
  }

  it('is bounded: a burst beyond it drops reviews (counted and logged), never blocks', async () => {
    const dir = tempDir('queue');
    const logs = logSink();
    const capture = captureWriter({ dir, maxQueue: 5 }, { logger: logs.logger, clock: () => NOW });
    const run = await handlerWith(capture.hooks);
    const web = object('deployment-prod-web');
    const burst = Array.from({ length: 50 }, (_, i) =>
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        oldObject: web,
        object: edited(web, (o) => (o.spec.replicas = i + 10)),
        fieldManager: 'kubectl-edit',
      }),
    );
    const outcomes = await Promise.all(burst.map(run));
    expect(outcomes.every((o) => o.response.allowed === false)).toBe(true);
    expect(capture.stats()).toMatchObject({ dropped: 45, queued: 5 });
    await capture.drain();
    expect(readdirSync(dir)).toHaveLength(5);
    expect(capture.stats()).toMatchObject({ written: 5, dropped: 45, queued: 0 });
    const warned = logs.lines().filter((l) => l.code === 'DG_CAPTURE' && l.msg === 'capture queue full; review dropped');
    expect(warned.map((l) => l.dropped)).toEqual([1]); // the first drop, then every hundredth
  });

  it('gives every capture its own file, even for a review replayed with the same uid', async () => {
    const dir = tempDir('same-uid');
    const capture = captureWriter({ dir }, { logger: pino({ level: 'silent' }), clock: () => NOW });
    const run = await handlerWith(capture.hooks);
    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    await Promise.all([run(edit), run(edit), run(edit)]);
    await capture.drain();
    expect(readdirSync(dir)).toHaveLength(3);
  });

  it('stops at the file limit', async () => {
    const dir = tempDir('limit');
    const logs = logSink();
    const capture = captureWriter({ dir, maxFiles: 2 }, { logger: logs.logger, clock: () => NOW });
    const run = await handlerWith(capture.hooks);
    const web = object('deployment-prod-web');
    for (let i = 0; i < 4; i++) {
      await run(
        buildReview({
          operation: 'UPDATE',
          userInfo: argocdController(),
          oldObject: web,
          object: edited(web, (o) => (o.spec.replicas = i)),
          fieldManager: 'argocd-controller',
        }),
      );
      await capture.drain();
    }
    expect(readdirSync(dir)).toHaveLength(2);
    expect(logs.lines().filter((l) => l.msg === 'capture limit reached; no more reviews are captured')).toHaveLength(1);
  });

  it('captures dry runs only when asked', async () => {
    const dir = tempDir('dry');
    const capture = captureWriter({ dir, dryRuns: true }, { logger: pino({ level: 'silent' }), clock: () => NOW });
    const run = await handlerWith(capture.hooks);
    const web = object('deployment-prod-web');
    await run(
      buildReview({
        operation: 'UPDATE',
        userInfo: jane(),
        oldObject: web,
        object: edited(web, (o) => (o.spec.replicas = 1)),
        fieldManager: 'kubectl',
        dryRun: true,
      }),
    );
    await capture.drain();
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('an unusable capture directory stops startup with DG_CAPTURE', async () => {
    const file = path.join(tempDir('notdir'), 'file');
    writeFileSync(file, 'x');
    await expect(
      openCapture({ dir: path.join(file, 'captures') }, { logger: pino({ level: 'silent' }), clock: () => NOW }),
    ).rejects.toMatchObject({ code: 'DG_CAPTURE' });
  });
});

describe('driftguard serve --capture-dir (the production build)', () => {
  it('captures what it answered and writes it all before exiting on SIGTERM', async () => {
    const dir = tempDir('serve-capture');
    const proc = await spawnServe(['--capture-dir', dir]);
    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    const res = await postJson(`${proc.url}/validate`, edit, { ca: proc.ca });
    expect(res.json.response.allowed).toBe(false);
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(dir, files[0]!), 'utf8')).request.uid).toBe(edit.request.uid);
    rmSync(dir, { recursive: true, force: true });
  });
});
