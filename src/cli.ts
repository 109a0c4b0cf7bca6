#!/usr/bin/env node
/**
 * Entry point of the `driftguard` and `kubectl-driftguard` bins (kubectl runs plugins by file name).
 * Turns on Node's compile cache where Node has it (22.1 and later; not 20), so a restart reuses the
 * compiled program, then loads the program: the bundle of src/cli/bin.ts (scripts/bundle.mjs).
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import(new URL('./bin/driftguard.js', import.meta.url).href);
