/**
 * Reading what driftguard wrote during a scenario: its records file (real JSON lines on disk),
 * filtered by object, and the CLI run over it the way a user runs it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { REPO } from '../../support/fixtures.js';
import { childEnv } from '../cluster/controlplane.js';
import type { Driftguard, Obj } from './driftguard.js';

/** The records about one object (by namespace and name), optionally only one type. */
export function recordsOf(dg: Driftguard, ns: string, name: string, type?: 'change' | 'violation'): Obj[] {
  return dg.records().filter((r) => r.resource?.namespace === ns && r.resource?.name === name && (type === undefined || r.type === type));
}

/** One line per record, short enough to read in a failed assertion. */
export function summary(records: Obj[]): string[] {
  return records.map((r) =>
    [
      r.type === 'change' ? r.stage : r.decision,
      r.operation,
      r.resource?.subResource ?? '-',
      r.actor?.username,
      r.fieldManager ?? '-',
      (r.changes ?? []).map((c: Obj) => c.path).join(','),
    ].join(' '),
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js ARGS`, resolving with the exit code and output whatever the code. */
export function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'dist/cli.js'), ...args],
      { cwd: REPO, env: childEnv(), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') return reject(err);
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
      },
    );
  });
}

/** Wait for the records file to stop growing (records are written off the admission path). */
export async function settled(dg: Driftguard, quietMs = 300): Promise<Obj[]> {
  let last = -1;
  for (;;) {
    const n = dg.records().length;
    if (n === last) return dg.records();
    last = n;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}
