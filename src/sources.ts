/**
 * The files a list of input sources names: `-` (standard input), a glob, a directory, or a file
 * with its rotated siblings, in a stable order, each file once. The records readers and the audit
 * log reader take sources the same way; what differs (which names a directory holds, how rotations
 * are named and ordered, the words of an error) is passed in.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { DriftguardError } from './errors.js';

export interface SourceRules {
  /** The files of a directory source, in read order, from its entry names. */
  inDirectory(names: string[]): string[];
  /** A file's rotated siblings, in read order (the file itself comes after them), from its directory's entry names. */
  rotatedSiblings(base: string, names: string[]): string[];
  /** The error text for a glob no file matches. */
  noMatch(source: string): string;
  /** The error text for a source that cannot be read. */
  missing(source: string): string;
}

function isGlob(s: string): boolean {
  return /[*?[\]{}]/.test(s);
}

export async function resolveSources(sources: readonly string[], rules: SourceRules): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (f: string): void => {
    const key = f === '-' ? '-' : path.resolve(f);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(f);
    }
  };
  for (const source of sources) {
    if (source === '-') {
      add('-');
      continue;
    }
    if (isGlob(source)) {
      const matches = (await glob(source, { onlyFiles: true, expandDirectories: false })).sort();
      if (matches.length === 0) throw new DriftguardError('DG_INPUT', rules.noMatch(source));
      matches.forEach(add);
      continue;
    }
    let info;
    try {
      info = await stat(source);
    } catch {
      throw new DriftguardError('DG_INPUT', rules.missing(source));
    }
    if (info.isDirectory()) {
      for (const n of rules.inDirectory(await readdir(source))) add(path.join(source, n));
      continue;
    }
    const dir = path.dirname(source);
    for (const n of rules.rotatedSiblings(path.basename(source), await readdir(dir))) add(path.join(dir, n));
    add(source);
  }
  return out;
}
