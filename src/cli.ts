#!/usr/bin/env node
/**
 * Entry point of the `driftguard` and `kubectl-driftguard` bins (kubectl runs plugins by file name).
 * Runs the program: the CommonJS bundle of src/cli/bin.ts, dist/bin/driftguard.cjs
 * (scripts/bundle.mjs), compiled with V8's code cache for it when the build left one.
 *
 * Node 20 caches no compiled code of its own (22.1 and later can, but only at run time, in a
 * directory a read-only container cannot keep), so each start would parse and compile the bundle
 * and every function the start runs: about a fifth of start to ready (docs/performance.md). The
 * build runs the program once per way it is started (`serve` with the flags of `npm start`, and a
 * command without flags) and keeps V8's compiled code of that run beside the bundle, named by a
 * hash of the bundle, the Node version and the flags: a cache made for another bundle, Node or
 * flags is never found, and V8 itself refuses one that does not fit (it then compiles as without).
 * `DRIFTGUARD_WRITE_CODE_CACHE=1` makes a run write its cache when it exits; only the build sets it.
 * `NODE_DEBUG=driftguard-cache` says on stderr which cache a start looked for and what V8 made of it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { debuglog } from 'node:util';
import { Script } from 'node:vm';

const bundle = fileURLToPath(new URL('./bin/driftguard.cjs', import.meta.url));

/** The bundle, compiled from the build's code cache when there is one for it, this Node and these flags. */
function runCached(): void {
  const source = readFileSync(bundle, 'utf8');
  const key = createHash('sha256')
    .update(source)
    .update(['', process.version, process.arch, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const cacheFile = path.join(path.dirname(bundle), `driftguard.${key}.cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The same wrapper as Node's own CommonJS loader. The bundle has no import() of a module outside
  // it (scripts/bundle.mjs refuses one): a script compiled from a code cache has no loader for
  // import() on Node 20 ("A dynamic import callback was not specified"); what it leaves out it require()s.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData === undefined ? {} : { cachedData }),
  });
  debuglog('driftguard-cache')(
    '%s: %s',
    cacheFile,
    cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected' : 'used',
  );
  if (process.env.DRIFTGUARD_WRITE_CODE_CACHE === '1') {
    process.once('exit', () => {
      try {
        writeFileSync(cacheFile, script.createCachedData());
      } catch (err) {
        process.stderr.write(`driftguard: could not write the code cache ${cacheFile}: ${String(err)}\n`);
      }
    });
  }
  const main = script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
  const mod = { exports: {} };
  main(mod.exports, createRequire(bundle), mod, bundle, path.dirname(bundle));
}

// Node maps stack traces through a source map (--enable-source-maps) only for what its own loader
// loads: then it loads the bundle (no cache is made for that flag anyway).
if (process.sourceMapsEnabled) createRequire(import.meta.url)(bundle);
else runCached();
