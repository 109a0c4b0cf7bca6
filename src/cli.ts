#!/usr/bin/env node
/** Entry point of the `driftguard` and `kubectl-driftguard` bins. */
import { run } from './cli/main.js';

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  clock: () => new Date(),
  cwd: process.cwd(),
});
process.exitCode = code;
