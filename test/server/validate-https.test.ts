/** The validating endpoint over real HTTPS on an ephemeral port, with a real records file. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { MAX_BODY_BYTES } from '../../src/server/app.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { request } from '../support/https.js';
import { argocdController, fluxKustomize, jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer();
});
afterAll(async () => {
  await srv.close();
});

const web = () => object('deployment-prod-web');
const newImage = (o: any) => {
  o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:9';
};

describe('POST /validate over HTTPS', () => {
  it('answers the README example (a committed review file) with a 403 denial and writes one record', async () => {
    const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
    const before = srv.records().length;
    const res = await srv.review(review);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: review.request.uid, allowed: false, status: { code: 403 } },
    });
    const records = srv.records();
    expect(records).toHaveLength(before + 1);
    expect(records.at(-1)).toMatchObject({ schema: 'driftguard.io/v1', uid: review.request.uid, decision: 'denied' });
  });

  it('answers a v1beta1 review as v1beta1 (kubectl scale of a managed Deployment)', async () => {
    const review = readJson<any>('reviews', 'kubectl-scale-prod-v1beta1.json');
    const res = await srv.review(review);
    expect(res.json.apiVersion).toBe('admission.k8s.io/v1beta1');
    expect(res.json.response).toMatchObject({ uid: review.request.uid, allowed: false });
  });

  it('echoes a fresh uid for every call, even for the same user action', async () => {
    const a = buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: edited(web(), newImage), oldObject: web() });
    const b = structuredClone(a);
    b.request.uid = 'second-call-uid';
    const [ra, rb] = await Promise.all([srv.review(a), srv.review(b)]);
    expect(ra.json.response.uid).toBe(a.request.uid);
    expect(rb.json.response.uid).toBe('second-call-uid');
    expect(ra.json.response.allowed).toBe(true);
  });

  it('a denied dry run is denied over the wire and leaves no line in the records file', async () => {
    const before = srv.records().length;
    const review = buildReview({
      operation: 'UPDATE',
      userInfo: jane(),
      object: edited(web(), newImage),
      oldObject: web(),
      dryRun: true,
      fieldManager: 'kubectl-client-side-apply',
    });
    const res = await srv.review(review);
    expect(res.json.response).toMatchObject({ uid: review.request.uid, allowed: false, status: { code: 403 } });
    // The same request without dryRun is recorded: the test can see a record when there is one.
    const real = structuredClone(review);
    real.request.uid = `${review.request.uid}-real`;
    real.request.dryRun = false;
    await srv.review(real);
    const after = srv.records();
    expect(after).toHaveLength(before + 1);
    expect(after.map((r) => r.uid)).not.toContain(review.request.uid);
    expect(after.at(-1).uid).toBe(real.request.uid);
  });

  it("a Secret edit's record holds no secret value, no base64 of it, no last-applied annotation", async () => {
    const secret = object('secret-flux-db');
    const neu = edited(secret, (o) => {
      o.data.password = Buffer.from('n3w-Sup3r-S3cret').toString('base64');
      o.stringData = { token: 'plain-token-value-42' };
      o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify({
        data: { password: Buffer.from('n3w-Sup3r-S3cret').toString('base64') },
      });
    });
    const update = buildReview({ operation: 'UPDATE', userInfo: jane(), object: neu, oldObject: secret, fieldManager: 'kubectl-edit' });
    const create = buildReview({ operation: 'CREATE', userInfo: jane(), object: neu, fieldManager: 'kubectl-create' });
    const del = buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: neu });
    for (const r of [update, create, del]) {
      const res = await srv.review(r);
      expect(res.json.response.allowed).toBe(false);
      // The denial message names fields, never values.
      expect(res.text).not.toContain('n3w-Sup3r-S3cret');
    }
    const text = readFileSync((srv.running.records.flushSync(), srv.recordsFile), 'utf8');
    const secretRecords = srv.records().filter((r) => r.resource.resource === 'secrets');
    expect(secretRecords.map((r) => r.operation)).toEqual(['UPDATE', 'CREATE', 'DELETE']);
    expect(secretRecords[0].changes.map((c: any) => c.path)).toEqual(['/data/password', '/stringData/token']);
    for (const needle of [
      'n3w-Sup3r-S3cret',
      Buffer.from('n3w-Sup3r-S3cret').toString('base64'),
      's3cr3t-Hunter2-old',
      Buffer.from('s3cr3t-Hunter2-old').toString('base64'),
      'plain-token-value-42',
      Buffer.from('shop').toString('base64'),
    ]) {
      expect(text).not.toContain(needle);
    }
    expect(text).toContain('[REDACTED]');
  });

  it('Flux updates pass; a person on a Flux object is denied', async () => {
    const api = object('deployment-flux-api');
    const ok = await srv.review(
      buildReview({
        operation: 'UPDATE',
        userInfo: fluxKustomize(),
        object: edited(api, newImage),
        oldObject: api,
        fieldManager: 'kustomize-controller',
      }),
    );
    expect(ok.json.response.allowed).toBe(true);
    const no = await srv.review(
      buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(api, newImage), oldObject: api, fieldManager: 'kubectl-edit' }),
    );
    expect(no.json.response.allowed).toBe(false);
  });
});

describe('bad input never crashes, never hangs', () => {
  const post = (body: string | Buffer, contentType = 'application/json', extra: Record<string, string> = {}) =>
    request(`${srv.url}/validate`, { ca: srv.ca, body, headers: { 'content-type': contentType, ...extra } });

  it('400 DG_REVIEW_INVALID_JSON for unparseable JSON', async () => {
    const res = await post('{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionRev');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('DG_REVIEW_INVALID_JSON');
  });

  it('400 for an empty body', async () => {
    const res = await post('');
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('DG_REVIEW_INVALID_JSON');
  });

  it('400 DG_REVIEW_INVALID for a review without request, or without uid', async () => {
    const noRequest = await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }));
    expect(noRequest.status).toBe(400);
    expect(noRequest.json.error).toMatchObject({ code: 'DG_REVIEW_INVALID', message: 'AdmissionReview has no request' });
    const noUid = await post(
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'UPDATE' } }),
    );
    expect(noUid.status).toBe(400);
    expect(noUid.json.error.message).toContain('uid');
  });

  it('400 DG_REVIEW_UNSUPPORTED_VERSION for another apiVersion', async () => {
    const res = await post(JSON.stringify({ apiVersion: 'admission.k8s.io/v2', kind: 'AdmissionReview', request: { uid: 'x' } }));
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('DG_REVIEW_UNSUPPORTED_VERSION');
  });

  it('a review with a uid but a malformed request is answered as a review (code 400) echoing the uid', async () => {
    const review = buildReview({ operation: 'UPDATE', userInfo: jane(), object: web(), oldObject: web() }) as any;
    review.request.userInfo.groups = 'not-a-list';
    const res = await post(JSON.stringify(review));
    expect(res.status).toBe(200);
    expect(res.json.response).toMatchObject({ uid: review.request.uid, allowed: false, status: { code: 400 } });
    expect(res.json.response.status.message).toContain('userInfo.groups');
  });

  it('415 DG_UNSUPPORTED_MEDIA_TYPE for another content type, and for a compressed body', async () => {
    const res = await post('{}', 'text/plain');
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe('DG_UNSUPPORTED_MEDIA_TYPE');
    const gz = await post(Buffer.from([0x1f, 0x8b, 0x08, 0x00]), 'application/json', { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(415);
  });

  it('413 DG_BODY_TOO_LARGE above the 7 MiB cap, and a body just under it is read', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('DG_BODY_TOO_LARGE');
    const review = buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: web(), oldObject: web() });
    const json = JSON.stringify(review);
    const padded = json + ' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(json));
    const ok = await post(padded);
    expect(ok.status).toBe(200);
    expect(ok.json.response.uid).toBe(review.request.uid);
  });

  it('404 DG_NOT_FOUND elsewhere; the path matches without the ?timeout=10s query', async () => {
    const nf = await request(`${srv.url}/nope`, { ca: srv.ca, method: 'GET' });
    expect(nf.status).toBe(404);
    expect(nf.json.error.code).toBe('DG_NOT_FOUND');
    const review = buildReview({ operation: 'UPDATE', userInfo: argocdController(), object: web(), oldObject: web() });
    const withQuery = await request(`${srv.url}/validate?timeout=10s`, {
      ca: srv.ca,
      body: JSON.stringify(review),
      headers: { 'content-type': 'application/json' },
    });
    expect(withQuery.json.response.uid).toBe(review.request.uid);
  });

  it('healthz and readyz answer', async () => {
    expect((await request(`${srv.url}/healthz`, { ca: srv.ca, method: 'GET' })).json).toEqual({ status: 'ok' });
    expect((await request(`${srv.url}/readyz`, { ca: srv.ca, method: 'GET' })).status).toBe(200);
  });
});

describe('an exception inside evaluation', () => {
  it('answers 500 with a body that still carries the uid, and the server keeps serving', async () => {
    const failing = await startTestServer({
      // The handler fails while judging: its records destination throws (a hook that throws no
      // longer can: listeners are isolated, test/hooks).
      deps: {
        records: {
          write() {
            throw new Error('boom in the records sink');
          },
          flushSync() {},
          async close() {},
        },
      },
    });
    try {
      const review = buildReview({ operation: 'UPDATE', userInfo: jane(), object: edited(web(), newImage), oldObject: web() });
      const res = await failing.review(review);
      expect(res.status).toBe(500);
      expect(res.json).toMatchObject({
        kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: false, status: { code: 500 } },
      });
      const health = await request(`${failing.url}/healthz`, { ca: failing.ca, method: 'GET' });
      expect(health.status).toBe(200);
    } finally {
      await failing.close();
    }
  });
});
