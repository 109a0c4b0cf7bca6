/**
 * Reading what driftguard wrote during a scenario: its records file (real JSON lines on disk),
 * filtered by object, and the CLI run over it the way a user runs it.
 */
import { steady } from './cluster.js';
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

/** The e2e CLI runner lives beside the driftguard it runs (support/driftguard.ts); re-exported for the files that read records with it. */
export { cli } from './driftguard.js';

/**
 * Wait for the records file to stop growing (change records are written off the admission path,
 * in batches of at most 50 ms): the records once `quietMs` passed without a new one, or an error
 * when it still grows after `timeoutMs`.
 */
export async function settled(dg: Driftguard, quietMs = 300, timeoutMs = 20_000): Promise<Obj[]> {
  await steady('the records file', () => dg.records().length, quietMs, timeoutMs);
  return dg.records();
}
