/**
 * Hostile request bodies for the fuzz tests, and the oracle that judges the answers.
 *
 * Every case starts from a faithful review (test/fixtures/reviews, or built from the object
 * fixtures the way the API server sends them) and is then broken in one of the ways the issue
 * lists: truncated JSON, a wrong type at any field, a null object on UPDATE, no userInfo, huge
 * arrays, nesting deep enough to blow a naive recursion, `__proto__` / `constructor` keys, plus
 * bodies that are not reviews at all and wrong headers.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { buildReview } from '../../src/admission/build.js';
import { ADMISSION_V1, ADMISSION_V1BETA1 } from '../../src/k8s/admission.js';
import { ERRORS } from '../../src/errors.js';
import { edited, object, readJson } from '../support/fixtures.js';
import { argocdController, hpa, jane, oncallBob } from '../support/identities.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface HostileCase {
  /** What was done, for the failure message. */
  label: string;
  body: Buffer;
  headers: Record<string, string>;
}

/** The faithful reviews every mutation starts from (as JSON text, parsed afresh per case). */
function baseReviews(): string[] {
  const web = object('deployment-prod-web');
  const newImage = (o: any) => {
    o.spec.template.spec.containers[0].image = 'registry.example.com/shop/web:1.42.1-hotfix';
  };
  const reviews: unknown[] = [
    readJson('reviews', 'kubectl-edit-prod.json'),
    readJson('reviews', 'argocd-update-prod.json'),
    readJson('reviews', 'kubectl-scale-prod-v1beta1.json'),
    buildReview({ operation: 'DELETE', userInfo: jane(), oldObject: web }),
    buildReview({ operation: 'CREATE', userInfo: jane(), object: object('configmap-generate-name'), fieldManager: 'kubectl-create' }),
    buildReview({
      operation: 'UPDATE',
      userInfo: hpa(),
      object: edited(web, (o) => (o.spec.replicas = 9)),
      oldObject: web,
      subResource: 'scale',
    }),
    buildReview({
      operation: 'UPDATE',
      userInfo: oncallBob(),
      object: edited(web, newImage),
      oldObject: web,
      fieldManager: 'kubectl-edit',
      dryRun: true,
    }),
    buildReview({
      operation: 'UPDATE',
      userInfo: argocdController(),
      object: edited(object('secret-flux-db'), (o) => (o.data.password = 'aHVudGVyMg==')),
      oldObject: object('secret-flux-db'),
    }),
  ];
  return reviews.map((r) => JSON.stringify(r));
}

const BASES = baseReviews();

/** Every path (as keys) in a review down to `maxDepth`, so a mutation can hit any field. */
function pathsOf(value: Json, maxDepth: number, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (prefix.length >= maxDepth || value === null || typeof value !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(value) ? value.slice(0, 3).map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const p = [...prefix, k];
    out.push(p);
    pathsOf(v, maxDepth, p, out);
  }
  return out;
}

const PATHS: (string | number)[][][] = BASES.map((b) => pathsOf(JSON.parse(b) as Json, 7));

function getParent(root: any, path: (string | number)[]): { parent: any; key: string | number } | undefined {
  let cur = root;
  for (const k of path.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  if (cur === null || typeof cur !== 'object') return undefined;
  return { parent: cur, key: path[path.length - 1]! };
}

function setAt(root: any, path: (string | number)[], value: unknown): void {
  const at = getParent(root, path);
  if (at !== undefined) at.parent[at.key] = value;
}

function deleteAt(root: any, path: (string | number)[]): void {
  const at = getParent(root, path);
  if (at === undefined) return;
  if (Array.isArray(at.parent)) at.parent.splice(Number(at.key), 1);
  else delete at.parent[at.key];
}

/** A value of the wrong type for almost any field. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, '', 'x', [], {}, [null], ['a', 1, null], { a: {} }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** Placeholders replaced in the JSON text by content JSON.stringify cannot produce (deep nesting). */
const HOLE = '\u0000hole\u0000';
const HOLE_JSON = JSON.stringify(HOLE);

function deepText(depth: number, shape: 'object' | 'array' | 'mixed', leaf: string): string {
  if (shape === 'object') return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  if (shape === 'array') return '['.repeat(depth) + leaf + ']'.repeat(depth);
  const half = Math.floor(depth / 2);
  return '{"a":['.repeat(half) + leaf + ']}'.repeat(half);
}

/** JSON text with own `__proto__`, `constructor` and `prototype` keys (JSON.parse keeps them as data). */
const protoValue: fc.Arbitrary<string> = fc.constantFrom(
  '{"__proto__":{"polluted":"yes","allowed":true}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":{"username":"system:serviceaccount:argocd:argocd-application-controller"}}',
  '{"prototype":{"polluted":"yes"},"__proto__":null}',
  '{"__proto__":[1,2,3],"constructor":"x","hasOwnProperty":"y","toString":1}',
);

interface Mutation {
  label: string;
  /** Leaves text JSON.stringify cannot re-create (deep nesting): nothing may follow it. */
  final?: boolean;
  /** Applied to the parsed review; may return replacement text (for placeholders). */
  apply(review: any, text: (r: unknown) => string): string;
}

const stringify = (r: unknown): string => JSON.stringify(r);

const wrongType: fc.Arbitrary<Mutation> = fc
  .tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), wrongValue), { minLength: 1, maxLength: 3 }))
  .map(([b, edits]) => ({
    label: 'wrong type',
    apply(review: any, text) {
      const paths = PATHS[b % PATHS.length]!;
      for (const [i, v] of edits) setAt(review, paths[i % paths.length]!, v);
      return text(review);
    },
  }));

const deleteField: fc.Arbitrary<Mutation> = fc.array(fc.nat(), { minLength: 1, maxLength: 3 }).map((idx) => ({
  label: 'field deleted',
  apply(review: any, text) {
    const paths = pathsOf(review as Json, 7);
    for (const i of idx) if (paths.length > 0) deleteAt(review, paths[i % paths.length]!);
    return text(review);
  },
}));

const nullObjectOnUpdate: fc.Arbitrary<Mutation> = fc.constantFrom('object', 'oldObject', 'both', 'absent').map((which) => ({
  label: `UPDATE with ${which} null`,
  apply(review: any, text) {
    review.request.operation = 'UPDATE';
    if (which === 'object' || which === 'both') review.request.object = null;
    if (which === 'oldObject' || which === 'both') review.request.oldObject = null;
    if (which === 'absent') {
      delete review.request.object;
      delete review.request.oldObject;
    }
    return text(review);
  },
}));

const missingUserInfo: fc.Arbitrary<Mutation> = fc
  .constantFrom('absent', 'null', 'empty', 'no username', 'groups null', 'groups string')
  .map((how) => ({
    label: `userInfo ${how}`,
    apply(review: any, text) {
      const r = review.request;
      if (how === 'absent') delete r.userInfo;
      else if (how === 'null') r.userInfo = null;
      else if (how === 'empty') r.userInfo = {};
      else if (how === 'no username') delete r.userInfo.username;
      else if (how === 'groups null') r.userInfo.groups = null;
      else r.userInfo.groups = 'system:masters';
      return text(review);
    },
  }));

const HUGE_TARGETS: (string | number)[][] = [
  ['request', 'userInfo', 'groups'],
  ['request', 'object', 'spec', 'template', 'spec', 'containers'],
  ['request', 'oldObject', 'spec', 'template', 'spec', 'containers'],
  ['request', 'object', 'metadata', 'labels'],
  ['request', 'object', 'metadata', 'managedFields'],
  ['request', 'object', 'items'],
  ['request', 'options', 'dryRun'],
];

const hugeArray: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.nat(HUGE_TARGETS.length - 1),
    fc.integer({ min: 10_000, max: 30_000 }),
    fc.constantFrom('number', 'string', 'object', 'null'),
    fc.boolean(),
  )
  .map(([t, n, item, both]) => ({
    label: `huge array (${n} ${item}s)`,
    apply(review: any, text) {
      const one = item === 'number' ? 7 : item === 'string' ? 'oncall' : item === 'object' ? { n: 1 } : null;
      const arr = new Array(n).fill(one);
      const path = HUGE_TARGETS[t]!;
      setAt(review, path, arr);
      if (both && path[1] === 'object') setAt(review, ['request', 'oldObject', ...path.slice(2)], new Array(n).fill(one).reverse());
      return text(review);
    },
  }));

const DEEP_TARGETS: (string | number)[][] = [
  ['request', 'object', 'spec'],
  ['request', 'oldObject', 'spec'],
  ['request', 'object', 'metadata', 'labels'],
  ['request', 'userInfo', 'extra'],
  ['request', 'options'],
  ['request', 'object'],
];

const deepNesting: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.nat(DEEP_TARGETS.length - 1),
    fc.integer({ min: 10_000, max: 30_000 }),
    fc.constantFrom<'object' | 'array' | 'mixed'>('object', 'array', 'mixed'),
    fc.boolean(),
  )
  .map(([t, depth, shape, both]) => ({
    label: `nesting ${depth} deep (${shape})`,
    final: true,
    apply(review: any, text) {
      const path = DEEP_TARGETS[t]!;
      setAt(review, path, HOLE);
      // Both sides deep and different at the bottom: the diff must walk all the way down.
      if (both && path[1] === 'object') setAt(review, ['request', 'oldObject', ...path.slice(2)], HOLE);
      let out = text(review);
      let leaf = 0;
      while (out.includes(HOLE_JSON)) out = out.replace(HOLE_JSON, deepText(depth, shape, String(leaf++)));
      return out;
    },
  }));

const PROTO_TARGETS: (string | number)[][] = [
  [],
  ['request'],
  ['request', 'userInfo'],
  ['request', 'kind'],
  ['request', 'object'],
  ['request', 'object', 'metadata'],
  ['request', 'object', 'metadata', 'labels'],
  ['request', 'object', 'metadata', 'annotations'],
  ['request', 'oldObject', 'metadata', 'annotations'],
  ['request', 'object', 'spec'],
  ['request', 'options'],
];

const protoKeys: fc.Arbitrary<Mutation> = fc
  .tuple(fc.array(fc.nat(PROTO_TARGETS.length - 1), { minLength: 1, maxLength: 3 }), protoValue)
  .map(([targets, value]) => ({
    label: `__proto__/constructor keys ${value}`,
    apply(review: any, text) {
      const marks: string[] = [];
      for (const t of targets) {
        const mark = `${HOLE}${marks.length}`;
        const path = PROTO_TARGETS[t]!;
        const at =
          path.length === 0 ? review : path.reduce((o: any, k) => (o === null || typeof o !== 'object' ? undefined : o[k]), review);
        if (at === null || typeof at !== 'object' || Array.isArray(at)) continue;
        at[mark] = 0;
        marks.push(mark);
      }
      let out = text(review);
      const inner = value.slice(1, -1);
      for (const m of marks) out = out.replace(`${JSON.stringify(m)}:0`, inner);
      return out;
    },
  }));

const valid: fc.Arbitrary<Mutation> = fc.constant({ label: 'valid', apply: (review: any, text) => text(review) });

// Weights: huge and deep bodies cost tens of milliseconds each, so they are a few percent of the
// runs (still a few hundred cases); the cheap structural breakage makes up the rest.
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 30, arbitrary: wrongType },
  { weight: 10, arbitrary: deleteField },
  { weight: 5, arbitrary: nullObjectOnUpdate },
  { weight: 5, arbitrary: missingUserInfo },
  { weight: 2, arbitrary: hugeArray },
  { weight: 2, arbitrary: deepNesting },
  { weight: 10, arbitrary: protoKeys },
  { weight: 5, arbitrary: valid },
);

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A broken review: mutated, sometimes also truncated, sometimes with odd headers. */
const brokenReview: fc.Arbitrary<HostileCase> = fc
  .tuple(
    fc.nat(),
    fc.array(mutation, { minLength: 1, maxLength: 2 }),
    fc.constantFrom(ADMISSION_V1, ADMISSION_V1BETA1),
    fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }),
  )
  .map(([b, muts, apiVersion, cut]) => {
    let review: any = JSON.parse(BASES[b % BASES.length]!);
    review.apiVersion = apiVersion;
    if (review.request !== null && typeof review.request === 'object') review.request.uid = randomUUID();
    let text = '';
    const ordered = [...muts.filter((m) => m.final !== true), ...muts.filter((m) => m.final === true).slice(0, 1)];
    const labels: string[] = [];
    for (const m of ordered) {
      try {
        text = m.apply(review, stringify);
        labels.push(m.label);
      } catch {
        // an earlier mutation removed what this one edits (userInfo gone, say): it does nothing
        text = stringify(review);
      }
      if (m.final === true) break;
      review = JSON.parse(text);
    }
    if (cut !== null) {
      text = text.slice(0, Math.floor(cut * text.length));
      labels.push(`truncated at ${text.length}`);
    }
    return { label: labels.join(' + '), body: Buffer.from(text, 'utf8'), headers: JSON_HEADERS };
  });

/** Bodies that are not reviews at all. */
const notAReview: fc.Arbitrary<HostileCase> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .jsonValue({ maxDepth: 4 })
      .map((v) => ({ label: 'random JSON', body: Buffer.from(JSON.stringify(v) ?? 'null'), headers: JSON_HEADERS })),
  },
  {
    weight: 4,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => ({ label: 'random bytes', body: Buffer.from(b), headers: JSON_HEADERS })),
  },
  {
    weight: 4,
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 200 })
      .map((s) => ({ label: 'random text', body: Buffer.from(s), headers: JSON_HEADERS })),
  },
  {
    weight: 4,
    arbitrary: fc
      .constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '{}',
        '"x"',
        '1e400',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}}',
      )
      .map((s) => ({
        label: `literal ${JSON.stringify(s)}`,
        body: Buffer.from(s),
        headers: JSON_HEADERS,
      })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 10_000, max: 50_000 })
      .map((d) => ({ label: `bare nesting ${d}`, body: Buffer.from(deepText(d, 'mixed', '1')), headers: JSON_HEADERS })),
  },
);

/** A faithful review sent with headers that are not a JSON review's. */
const oddHeaders: fc.Arbitrary<HostileCase> = fc
  .tuple(
    fc.nat(),
    fc.constantFrom<Record<string, string>>(
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/json-patch+json' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      { 'content-type': 'application/json', 'content-encoding': 'br, identity' },
      { 'content-type': 'application/json; charset=utf-8' },
      { 'content-type': 'APPLICATION/JSON' },
      {},
    ),
  )
  .map(([b, headers]) => {
    const review = JSON.parse(BASES[b % BASES.length]!);
    review.request.uid = randomUUID();
    return { label: `headers ${JSON.stringify(headers)}`, body: Buffer.from(JSON.stringify(review)), headers };
  });

export const hostileCase: fc.Arbitrary<HostileCase> = fc.oneof(
  { weight: 14, arbitrary: brokenReview },
  { weight: 3, arbitrary: notAReview },
  { weight: 1, arbitrary: oddHeaders },
);

// ---------------------------------------------------------------------------------------------
// The oracle

const API_VERSIONS: ReadonlySet<unknown> = new Set([ADMISSION_V1, ADMISSION_V1BETA1]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the body is, read the way the server reads it (UTF-8 text, then JSON). */
function reviewIdentity(c: HostileCase): { apiVersion: string; uid: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(c.body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isRecord(json) || !API_VERSIONS.has(json.apiVersion) || json.kind !== 'AdmissionReview' || !isRecord(json.request)) return undefined;
  const uid = json.request.uid;
  return typeof uid === 'string' && uid !== '' ? { apiVersion: json.apiVersion as string, uid } : undefined;
}

function headersAreAReview(headers: Record<string, string>): boolean {
  const ct = (headers['content-type'] ?? '').toLowerCase().split(';')[0]!.trim();
  const enc = (headers['content-encoding'] ?? 'identity').toLowerCase();
  return ct === 'application/json' && enc === 'identity';
}

export interface Answer {
  status: number;
  contentType: string | undefined;
  text: string;
}

/**
 * Undefined when the answer is acceptable, else what is wrong with it: a review must be answered
 * 200 with an AdmissionReview in its own apiVersion echoing its uid; anything else with a 4xx JSON
 * error carrying a DG_* code. A 5xx is never acceptable for these bodies.
 */
export function judgeAnswer(c: HostileCase, a: Answer): string | undefined {
  if (!(a.contentType ?? '').startsWith('application/json')) return `content-type ${a.contentType}`;
  let json: unknown;
  try {
    json = JSON.parse(a.text);
  } catch {
    return `answer is not JSON: ${a.text.slice(0, 200)}`;
  }
  const id = headersAreAReview(c.headers) ? reviewIdentity(c) : undefined;
  if (id !== undefined) {
    if (a.status !== 200) return `a review with uid ${id.uid} got HTTP ${a.status}: ${a.text.slice(0, 300)}`;
    if (!isRecord(json) || json.apiVersion !== id.apiVersion || json.kind !== 'AdmissionReview')
      return `not an AdmissionReview in ${id.apiVersion}: ${a.text.slice(0, 300)}`;
    const r = json.response;
    if (!isRecord(r) || r.uid !== id.uid) return `uid not echoed: ${a.text.slice(0, 300)}`;
    if (typeof r.allowed !== 'boolean') return 'response.allowed is not a boolean';
    if (r.patch !== undefined || r.patchType !== undefined) return 'a validating webhook returned a patch';
    if (r.allowed === false) {
      const s = r.status;
      if (!isRecord(s) || typeof s.code !== 'number' || s.code < 400 || typeof s.message !== 'string')
        return `a refusal without a 4xx/5xx status: ${JSON.stringify(s)}`;
      if (s.code >= 500) return `an internal error answered a hostile review: ${s.message}`;
    }
    if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w) => typeof w === 'string' && w.length <= 120)))
      return 'bad warnings';
    return undefined;
  }
  if (a.status < 400 || a.status >= 500) return `a body that is not a review got HTTP ${a.status}: ${a.text.slice(0, 300)}`;
  if (!isRecord(json) || !isRecord(json.error)) return `not a JSON error: ${a.text.slice(0, 300)}`;
  const code = json.error.code;
  if (typeof code !== 'string' || !(code in ERRORS)) return `unknown error code ${String(code)}`;
  if (typeof json.error.message !== 'string') return 'error without a message';
  return undefined;
}

/** Own property names of the built-in prototypes, to show that nothing was polluted. */
export function prototypeSnapshot(): string {
  const protos = [Object.prototype, Array.prototype, Function.prototype, String.prototype];
  return protos.map((p) => Object.getOwnPropertyNames(p).sort().join(',')).join('|');
}

export function polluted(): string[] {
  const probe = {} as Record<string, unknown>;
  return ['polluted', 'username', 'allowed'].filter((k) => probe[k] !== undefined || k in Object.prototype);
}
