/**
 * One parse for the calls of one write: a body equal to an earlier one but for its uid is answered
 * from that parse, with its own uid; any other body is parsed as always.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../../src/k8s/admission.js';
import { parseReview } from '../../src/admission/review.js';
import { memberPathAt, ReviewMemo } from '../../src/server/review-memo.js';
import { readJson } from '../support/fixtures.js';
import { request as httpsRequest } from '../support/https.js';
import { sample } from '../support/prom.js';
import { startTestServer, type TestServer } from '../support/server.js';

const fixture = readJson<{ request: AdmissionRequest }>('reviews', 'kubectl-edit-prod.json').request;

/** A review as the API server encodes it: kind, apiVersion, then the request with its uid first. */
function encoded(uid: string, edit: (r: any) => void = () => {}, apiVersion = 'admission.k8s.io/v1'): string {
  const { uid: _uid, ...rest } = structuredClone(fixture) as any;
  edit(rest);
  return JSON.stringify({ kind: 'AdmissionReview', apiVersion, request: { uid, ...rest } });
}

/** The request as the server parses it (parseReview). */
function parsed(body: string): AdmissionRequest {
  const p = parseReview(JSON.parse(body));
  if (!p.ok) throw new Error(p.message);
  return p.request;
}

describe('ReviewMemo', () => {
  it('answers a body equal but for its uid from the first parse, with the new uid', () => {
    const memo = new ReviewMemo();
    const first = encoded('1f0c-entry');
    memo.remember(Buffer.from(first), parsed(first));
    const again = memo.reuse(Buffer.from(encoded('9a7d-exit-longer-uid')));
    expect(again?.uid).toBe('9a7d-exit-longer-uid');
    expect(again?.object).toEqual(fixture.object);
    expect(memo.reuse(Buffer.from(encoded('b2', (r) => (r.object.spec.replicas = 9))))).toBeUndefined();
  });

  it('keeps only bodies as the API server encodes them, with a plain uid', () => {
    const memo = new ReviewMemo();
    for (const body of [
      encoded('a', () => {}, 'admission.k8s.io/v1beta1'),
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { ...fixture, uid: 'a' } }),
      encoded('a\\"b'),
    ]) {
      memo.remember(Buffer.from(body), parsed(body));
      expect(memo.reuse(Buffer.from(body.replace('"uid":"a', '"uid":"z')))).toBeUndefined();
    }
  });

  it('forgets bodies past their age, past its size, and never keeps a large one', () => {
    let now = 0;
    const memo = new ReviewMemo({ entries: 2, maxAgeMs: 100, maxBodyBytes: 64 * 1024, now: () => now });
    const body = (n: number) => encoded(`u${n}`, (r) => (r.object.metadata.resourceVersion = String(n)));
    for (const n of [1, 2, 3]) memo.remember(Buffer.from(body(n)), parsed(body(n)));
    expect(memo.reuse(Buffer.from(body(1).replace('"uid":"u1"', '"uid":"x1"')))).toBeUndefined();
    expect(memo.reuse(Buffer.from(body(3).replace('"uid":"u3"', '"uid":"x3"')))?.uid).toBe('x3');
    now = 101;
    expect(memo.reuse(Buffer.from(body(3).replace('"uid":"u3"', '"uid":"y3"')))).toBeUndefined();
    const big = encoded('big', (r) => (r.object.metadata.annotations.pad = 'x'.repeat(70 * 1024)));
    memo.remember(Buffer.from(big), parsed(big));
    expect(memo.reuse(Buffer.from(big.replace('"uid":"big"', '"uid":"b2"')))).toBeUndefined();
  });

  it('keeps bodies up to a total size, dropping the oldest', () => {
    const memo = new ReviewMemo({ maxTotalBytes: 150 * 1024 });
    const body = (n: number) => encoded(`u${n}`, (r) => (r.object.metadata.annotations.pad = `${n}`.repeat(40 * 1024)));
    for (const n of [1, 2, 3]) memo.remember(Buffer.from(body(n)), parsed(body(n)));
    expect(memo.reuse(Buffer.from(body(1).replace('"uid":"u1"', '"uid":"x1"')))).toBeUndefined();
    expect(memo.reuse(Buffer.from(body(2).replace('"uid":"u2"', '"uid":"x2"')))?.uid).toBe('x2');
    expect(memo.reuse(Buffer.from(body(3).replace('"uid":"u3"', '"uid":"x3"')))?.uid).toBe('x3');
  });
});

describe('ReviewMemo: the validating call, its generation bumped', () => {
  /** The fixture with the stored object at generation `stored` and the written one at `written`. */
  const at = (uid: string, stored: number, written: number, edit: (r: any) => void = () => {}): string =>
    encoded(uid, (r) => {
      r.oldObject.metadata.generation = stored;
      r.object.metadata.generation = written;
      edit(r);
    });

  it.each([
    [7, 8],
    [9, 10],
    [99, 100],
  ])("answers generation %i -> %i from the observers' parse, with its own uid, then forgets the write", (stored, bumped) => {
    const memo = new ReviewMemo();
    const entry = at('e-1', stored, stored);
    const first = parsed(entry);
    memo.remember(Buffer.from(entry), first);
    const validating = at('v-1', stored, bumped);
    const reused = memo.reuse(Buffer.from(validating));
    expect(reused).toEqual(parsed(validating));
    expect(reused?.uid).toBe('v-1');
    expect(first.object?.metadata?.generation).toBe(stored); // the kept parse is not changed
    // The validating call is the write's last: the same bytes again are parsed, not reused.
    expect(memo.reuse(Buffer.from(at('v-2', stored, bumped)))).toBeUndefined();
  });

  type Edit = (r: any) => void;
  it.each<[string, Edit, Edit]>([
    ['a number elsewhere in the object', () => {}, (r: any) => (r.object.spec.replicas = 4)],
    ["the stored object's generation", () => {}, (r: any) => (r.oldObject.metadata.generation = 8)],
    ['a spec member named generation', (r: any) => (r.object.spec.generation = 7), (r: any) => (r.object.spec.generation = 8)],
    [
      'a member whose name joins the path with a slash',
      (r: any) => (r['object/metadata'] = { generation: 7 }),
      (r: any) => (r['object/metadata'].generation = 8),
    ],
    [
      'a digit inside a string',
      (r: any) => (r.object.metadata.annotations = { note: 'build 7' }),
      (r: any) => (r.object.metadata.annotations = { note: 'build 8' }),
    ],
  ])('parses a body that differs in %s', (_what, base, change) => {
    const memo = new ReviewMemo();
    const entry = at('e-1', 7, 7, base);
    memo.remember(Buffer.from(entry), parsed(entry));
    const other = at('v-1', 7, 7, (r: any) => {
      base(r);
      change(r);
    });
    expect(other).not.toBe(entry.replace('"e-1"', '"v-1"'));
    expect(memo.reuse(Buffer.from(other))).toBeUndefined();
  });

  it('parses a generation written with a leading zero or an exponent (not as the API server writes it)', () => {
    const memo = new ReviewMemo();
    const entry = at('e-1', 7, 7);
    memo.remember(Buffer.from(entry), parsed(entry));
    for (const written of ['"generation":08', '"generation":8e0', '"generation":8.5']) {
      const body = at('v-1', 7, 8).replace('"generation":8', written);
      expect(body).toContain(written);
      expect(memo.reuse(Buffer.from(body))).toBeUndefined();
    }
    expect(memo.reuse(Buffer.from(at('v-1', 7, 8)))?.object?.metadata?.generation).toBe(8);
  });

  it('reads the member path of a value from the bytes before it, past strings with quotes and braces', () => {
    const body = Buffer.from(JSON.stringify({ a: 'x\\"{[}', b: [{ c: 1 }, { d: { e: '}' } }], f: { g: 2 } }));
    expect(memberPathAt(body, body.indexOf('1'))).toEqual(['b', '[]', 'c']);
    expect(memberPathAt(body, body.indexOf('2'))).toEqual(['f', 'g']);
    expect(memberPathAt(body, body.indexOf('"e":') + 4)).toEqual(['b', '[]', 'd', 'e']);
    // Inside a string, or not where a member's value starts: no path.
    expect(memberPathAt(body, body.indexOf('{[}'))).toBeUndefined();
    expect(memberPathAt(body, body.indexOf('"b"'))).toBeUndefined();
  });
});

describe('the three calls of one write over HTTPS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('each answer echoes its own uid, the records carry them, and two of three parses are reused', async () => {
    const calls = [
      ['/observe/entry', 'c0a8-0001'],
      ['/observe/exit', 'c0a8-0002'],
      ['/validate', 'c0a8-0003'],
    ] as const;
    const answers = [];
    for (const [route, uid] of calls) answers.push((await server.review(encoded(uid), route)).json.response);
    expect(answers.map((a) => a.uid)).toEqual(calls.map(([, uid]) => uid));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, false]);
    const records = server.records().filter((r) => r.uid?.startsWith('c0a8-'));
    expect(records.filter((r) => r.type === 'change').map((r) => [r.stage, r.uid])).toEqual([
      ['entry', 'c0a8-0001'],
      ['exit', 'c0a8-0002'],
    ]);
    expect(records.filter((r) => r.type === 'violation').every((r) => r.uid === 'c0a8-0003')).toBe(true);
    const metrics = await httpsRequest(`${server.url}/metrics`, { ca: server.ca, method: 'GET' });
    expect(sample(metrics.text, 'driftguard_review_parses_reused_total')).toBe(2);
    // A different write (another resourceVersion) is parsed, not reused.
    const other = encoded('c0a8-0004', (r) => {
      r.object.metadata.resourceVersion = '777';
      r.oldObject.metadata.resourceVersion = '777';
    });
    expect((await server.review(other, '/validate')).json.response.uid).toBe('c0a8-0004');
    const after = await httpsRequest(`${server.url}/metrics`, { ca: server.ca, method: 'GET' });
    expect(sample(after.text, 'driftguard_review_parses_reused_total')).toBe(2);
  });

  it("keeps only the observers' bodies: a validating call is never sent again, so its parse is not kept", async () => {
    const write = (uid: string): string =>
      encoded(uid, (r) => {
        r.object.metadata.resourceVersion = '901';
        r.oldObject.metadata.resourceVersion = '901';
      });
    const reused = async (): Promise<number> =>
      sample(
        (await httpsRequest(`${server.url}/metrics`, { ca: server.ca, method: 'GET' })).text,
        'driftguard_review_parses_reused_total',
      )!;
    const before = await reused();
    expect((await server.review(write('d1-validate'), '/validate')).json.response.uid).toBe('d1-validate');
    expect((await server.review(write('d1-exit'), '/observe/exit')).json.response.uid).toBe('d1-exit');
    expect(await reused()).toBe(before);
    // The exit observer's body is kept: the same bytes at the validating call are not parsed again.
    expect((await server.review(write('d1-validate-2'), '/validate')).json.response.uid).toBe('d1-validate-2');
    expect(await reused()).toBe(before + 1);
  });
});
