/** Render a kustomization with the real kubectl (its built-in kustomize) and parse the objects. */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { REPO } from './fixtures.js';

const run = promisify(execFile);

export type Obj = Record<string, any>;

export async function kustomize(dir: string): Promise<Obj[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

/** A copy of manifests/ in a temp dir, so generated certificates never land in the repository. */
export function copyManifests(): { dir: string; manifests: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-manifests-'));
  const manifests = path.join(dir, 'manifests');
  cpSync(path.join(REPO, 'manifests'), manifests, {
    recursive: true,
    filter: (src) => !src.startsWith(path.join(REPO, 'manifests', 'certs') + path.sep) || src.endsWith('README.md'),
  });
  return { dir, manifests };
}

export function find(objects: Obj[], kind: string, name?: string): Obj {
  const hit = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (hit === undefined)
    throw new Error(
      `no ${kind}${name === undefined ? '' : ` ${name}`} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')}`,
    );
  return hit;
}
