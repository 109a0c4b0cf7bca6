/**
 * A suite case made ready to run: its review read from a file (or a glob of them) or built from the
 * short form, its expectation (the suite's, or a capture's own answer), and the objects a Scale's
 * parent lookup may find (a small in-memory cluster). Errors become a prepared error, never a throw.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { parseReview } from '../admission/review.js';
import type { MarksLookup } from '../cluster/parents.js';
import { DriftguardError, errorMessage, systemErrorText } from '../errors.js';
import type { AdmissionRequest, KubeObject } from '../k8s/admission.js';
import { guessPlural } from '../k8s/kinds.js';
import { key } from '../k8s/object-ref.js';
import { marksOf } from '../k8s/owner.js';
import { outcomeOf, type Expected } from './compare.js';
import { buildShortForm } from './request.js';
import type { SuiteCase } from './suite.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readText(file: string, what: string, shown = file): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new DriftguardError('DG_TEST_INVALID', `cannot read ${what} ${shown}: ${systemErrorText(err)}`);
  }
}

/** An object file (JSON or YAML) named relative to the suite directory. */
export async function readObjectFile(dir: string, name: string): Promise<KubeObject> {
  const file = path.resolve(dir, name);
  const text = await readText(file, 'object file', name);
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new DriftguardError(
      'DG_TEST_INVALID',
      `${name} is not ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${errorMessage(err).split('\n')[0]}`,
    );
  }
  if (!isRecord(value) || typeof value.kind !== 'string')
    throw new DriftguardError('DG_TEST_INVALID', `${name} is not a Kubernetes object (no kind)`);
  return value as KubeObject;
}

function keyOf(obj: KubeObject): string | undefined {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const av = obj.apiVersion ?? 'v1';
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return key({ group, resource: guessPlural(obj.kind ?? ''), namespace: obj.metadata?.namespace, name });
}

/** A "cluster" of known objects: what a metadata GET of a Scale's parent would find. */
export function clusterLookup(objects: readonly KubeObject[]): MarksLookup {
  const byKey = new Map<string, KubeObject>();
  for (const o of objects) {
    const k = keyOf(o);
    if (k !== undefined) byKey.set(k, o);
  }
  return async (ref) => {
    const found = byKey.get(key(ref));
    return found === undefined ? undefined : marksOf(found);
  };
}

/** A captured review carries the answer it got: replay expects the same result and the same violated policies. */
function capturedExpectation(body: unknown): Expected | undefined {
  const r = isRecord(body) ? body.response : undefined;
  if (!isRecord(r) || typeof r.allowed !== 'boolean') return undefined;
  const warnings = Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === 'string') : [];
  const expected: Expected = { result: outcomeOf(r.allowed, warnings), from: 'capture' };
  const annotations = isRecord(r.auditAnnotations) ? r.auditAnnotations : {};
  expected.violated = typeof annotations.policies === 'string' && annotations.policies !== '' ? annotations.policies.split(',').sort() : [];
  return expected;
}

/** A case ready to run, or why it cannot run. */
export type Prepared =
  | { ok: true; name: string; source: string; request: AdmissionRequest; cluster: KubeObject[]; expected: Expected }
  | { ok: false; name: string; source: string; error: string };

/** One suite case may stand for several files (a review glob): one prepared case each. */
export async function prepareCase(c: SuiteCase, dir: string, now: Date, cluster: readonly KubeObject[]): Promise<Prepared[]> {
  if (c.kind === 'review') {
    const files = isDynamicPattern(c.review) ? (await glob(c.review, { cwd: dir, absolute: true })).sort() : [path.resolve(dir, c.review)];
    if (files.length === 0) return [{ ok: false, name: c.name ?? c.review, source: c.review, error: `no file matches ${c.review}` }];
    const many = files.length > 1 || isDynamicPattern(c.review);
    return Promise.all(
      files.map(async (file): Promise<Prepared> => {
        const rel = path.relative(dir, file);
        const name = c.name === undefined ? rel : many ? `${c.name}: ${rel}` : c.name;
        try {
          const text = await readText(file, 'review', rel);
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (err) {
            throw new DriftguardError('DG_TEST_INVALID', `${rel} is not JSON: ${errorMessage(err)}`);
          }
          const parsed = parseReview(body);
          if (!parsed.ok) throw new DriftguardError('DG_TEST_INVALID', `${rel} is not an AdmissionReview: ${parsed.message}`);
          const expected: Expected | undefined = c.expect !== undefined ? { ...c.expect, from: 'suite' } : capturedExpectation(body);
          if (expected === undefined)
            throw new DriftguardError('DG_TEST_INVALID', `${rel} has no response to replay; give the case an \`expect\``);
          return { ok: true, name, source: rel, request: parsed.request, cluster: [...cluster], expected };
        } catch (err) {
          return { ok: false, name, source: rel, error: errorMessage(err) };
        }
      }),
    );
  }
  const { request: req, name } = c;
  try {
    const objects = new Map<string, KubeObject>();
    for (const f of [req.object, req.oldObject]) if (f !== undefined) objects.set(f, await readObjectFile(dir, f));
    const built = buildShortForm(req, { readObject: (f) => structuredClone(objects.get(f)!), now });
    return [
      {
        ok: true,
        name,
        source: 'request',
        request: built.review.request,
        cluster: built.parent === undefined ? [...cluster] : [...cluster, built.parent],
        expected: { ...c.expect, from: 'suite' },
      },
    ];
  } catch (err) {
    return [{ ok: false, name, source: 'request', error: errorMessage(err) }];
  }
}
