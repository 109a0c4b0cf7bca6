/** Fixtures live in files (test/fixtures); this reads them and makes variants. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeObject } from '../../src/k8s/admission.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
export const REPO = path.resolve(import.meta.dirname, '../..');
export const SAMPLE_POLICIES = path.join(REPO, 'policies');

export function fixturePath(...parts: string[]): string {
  return path.join(FIXTURES, ...parts);
}

export function readJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(fixturePath(...parts), 'utf8')) as T;
}

/** A fresh deep copy of an object fixture (test/fixtures/objects/NAME.json). */
export function object(name: string): KubeObject {
  return readJson<KubeObject>('objects', `${name}.json`);
}

/**
 * A copy of `obj` with `edit` applied, as a webhook sees the object of an UPDATE: the stored
 * resourceVersion kept (the API server assigns the next one only when it persists; see
 * docs/api-server.md) and the generation bumped when spec changed.
 */
export function edited(obj: KubeObject, edit: (o: any) => void): KubeObject {
  const copy = structuredClone(obj) as any;
  edit(copy);
  if (typeof copy.metadata?.generation === 'number' && JSON.stringify(copy.spec) !== JSON.stringify((obj as any).spec))
    copy.metadata.generation = (obj as any).metadata.generation + 1;
  return copy as KubeObject;
}
