/**
 * The Node.js flags driftguard serves with, read from package.json's `start` script (the README's
 * main command; the Dockerfile's ENTRYPOINT carries the same flags, test/ops/dockerfile.test.ts
 * checks it), so that the build caches the compiled program for them (scripts/bundle.mjs) and the benches
 * measure the server as it is run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8'));
const m = /^exec node ((?:--\S+ )*)dist\/cli\.js serve\b/.exec(pkg.scripts.start);
if (m === null) throw new Error(`package.json's start script is not "exec node [FLAGS] dist/cli.js serve ...": ${pkg.scripts.start}`);

/** For example ['--max-semi-space-size=8']. */
export const SERVE_NODE_FLAGS = m[1].split(' ').filter((f) => f !== '');
