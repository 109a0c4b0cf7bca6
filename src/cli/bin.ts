/**
 * The program on this process's command line and streams. Bundled with everything it imports into
 * dist/bin/driftguard.cjs (scripts/bundle.mjs), which the bins' entry point, src/cli.ts, runs. A
 * CommonJS script (so that V8 can cache its compiled code): no top-level await.
 */
import { stdinKind } from './io.js';
import { programName, run } from './main.js';

void run(
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
).then((code) => {
  process.exitCode = code;
});
