/** Run one review through the same handler the server uses, with records kept in memory. */
import pino from 'pino';
import { validate, type ValidateOutcome } from '../../src/admission/handler.js';
import type { AdmissionReviewRequest } from '../../src/k8s/admission.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { loadPolicies } from '../../src/policy/load.js';
import type { PolicySet } from '../../src/policy/set.js';
import { memorySink } from '../../src/records/sink.js';

export const NOW = new Date('2026-11-24T12:00:00Z');

const cache = new Map<string, Promise<PolicySet>>();
export function policies(...dirs: string[]): Promise<PolicySet> {
  const key = dirs.join('|');
  let p = cache.get(key);
  if (p === undefined) {
    p = loadPolicies(dirs);
    cache.set(key, p);
  }
  return p;
}

export interface Judged extends ValidateOutcome {
  /** Violation records (denied, warned, audited, break-glass). */
  records: any[];
  /** Change records (the ledger's final stage, for admitted writes to covered objects). */
  changes: any[];
}

export async function judge(
  review: AdmissionReviewRequest,
  set: PolicySet,
  opts: { now?: Date; parents?: ParentResolver } = {},
): Promise<Judged> {
  const records = memorySink();
  const outcome = await validate(review.request, {
    policies: () => set,
    parents: opts.parents ?? new ParentResolver(),
    records,
    clock: () => opts.now ?? NOW,
    logger: pino({ level: 'silent' }),
  });
  const all = records.records as Array<{ type: string }>;
  return { ...outcome, records: all.filter((r) => r.type === 'violation'), changes: all.filter((r) => r.type === 'change') };
}
