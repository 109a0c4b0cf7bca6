#!/usr/bin/env node
/** Entry point of the `driftguard` and `kubectl-driftguard` bins (kubectl runs plugins by file name). */
import { stdinKind } from './cli/io.js';
import { programName, run } from './cli/main.js';

const code = await run(
  process.argv.slice(2),
  {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    stdinKind: stdinKind(0),
    clock: () => new Date(),
    cwd: process.cwd(),
  },
  { name: programName(process.argv[1]) },
);
process.exitCode = code;
