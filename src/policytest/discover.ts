/** Where the suites are: a suite file itself, or every driftguard-test.yaml below a directory. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { DriftguardError, errorMessage } from '../errors.js';
import { SUITE_FILE_NAMES } from './suite.js';

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);

/** The suite files under each target: a suite file itself, or every driftguard-test.yaml below a directory. */
export async function findSuites(targets: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const target of targets) {
    let info;
    try {
      info = await stat(target);
    } catch (err) {
      throw new DriftguardError('DG_USAGE', `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
    }
    if (info.isFile()) {
      found.add(path.resolve(target));
      continue;
    }
    const files = await glob(
      SUITE_FILE_NAMES.map((n) => `**/${n}`),
      {
        cwd: target,
        absolute: true,
        ignore: [...SKIP_DIRS].map((d) => `**/${d}/**`),
        followSymbolicLinks: false,
      },
    );
    for (const f of files) found.add(path.resolve(f));
  }
  return [...found].sort();
}
