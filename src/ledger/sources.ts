/**
 * Two sources of one object's writes: the webhooks' own records (a `final` record per admitted try,
 * paired with its entry and exit observations) and the API server's audit log (a `final` record
 * with `source: audit-log` per persisted write). Each persisted write is matched with the admitted
 * try that became it: same operation, requester and subresource, the try at most PAIR_WINDOW_MS
 * before the write (CLOCK_SKEW_MS after), the same content digest where both have one (else the
 * latest such try). Where they disagree the ledger says so: an admitted try within the time the
 * audit log covers that no persisted write matches was never persisted (a conflict retry, a later
 * webhook's denial, a timeout), and a persisted write that no try matches was made while the
 * webhooks did not see it (driftguard down, failing open). Pure.
 */
import type { ChangeRecord } from '../records/record.js';
import { CLOCK_SKEW_MS, PAIR_WINDOW_MS, type PairedWrite } from './pair.js';

export interface AuditCoverage {
  /** The span (ms) the audit log files cover, first to last event of any object. */
  from: number;
  to: number;
}

export interface Disagreement {
  kind: 'not-persisted' | 'unobserved';
  time: string;
  username: string;
  operation: ChangeRecord['operation'];
  /** The webhook call's uid (not-persisted) or the audit event's auditID (unobserved). */
  uid: string;
}

export interface MergedWrite {
  /** The observed try, when one matched (or when there is no audit record for it). */
  observed?: PairedWrite;
  /** The persisted write from the audit log. */
  audit?: ChangeRecord;
}

/**
 * A try this close to the end of what the audit log covers may have completed after its last line
 * was written: it is kept as observed, not called unpersisted.
 */
const COMPLETION_MARGIN_MS = 1_000;

function time(r: ChangeRecord): number {
  return Date.parse(r.time);
}

function sameRequest(a: ChangeRecord, o: ChangeRecord): boolean {
  return (
    a.operation === o.operation &&
    a.actor.username === o.actor.username &&
    (a.resource.subResource ?? '') === (o.resource.subResource ?? '')
  );
}

/**
 * `observed`: the admitted tries left after the digests' own judgement (persisted.ts); `audit`: the
 * audit log's records of the object. `observers`: whether any webhook record of the object was read
 * (without any, an audit-only ledger has nothing to disagree with).
 */
export function mergeSources(
  observed: readonly PairedWrite[],
  audit: readonly ChangeRecord[],
  coverage: AuditCoverage | undefined,
  observers: boolean,
): { writes: MergedWrite[]; disagreements: Disagreement[] } {
  const writes: MergedWrite[] = [];
  const disagreements: Disagreement[] = [];
  const used = new Set<PairedWrite>();
  const sortedObserved = [...observed].sort((a, b) => time(a.final) - time(b.final));
  for (const a of [...audit].sort((x, y) => time(x) - time(y))) {
    const t = time(a);
    const candidates = sortedObserved.filter((w) => {
      if (used.has(w) || !sameRequest(a, w.final)) return false;
      const wt = time(w.final);
      if (wt < t - PAIR_WINDOW_MS || wt > t + CLOCK_SKEW_MS) return false;
      // Both digests known and different: another try of the request, not the one persisted.
      return a.objectDigest === undefined || w.final.objectDigest === undefined || a.objectDigest === w.final.objectDigest;
    });
    const byDigest = candidates.filter((w) => a.objectDigest !== undefined && w.final.objectDigest === a.objectDigest);
    const pool = byDigest.length > 0 ? byDigest : candidates;
    const before = pool.filter((w) => time(w.final) <= t);
    const match = before.length > 0 ? before[before.length - 1] : pool[0];
    if (match !== undefined) {
      used.add(match);
      writes.push({ observed: match, audit: a });
      continue;
    }
    writes.push({ audit: a });
    if (observers) disagreements.push({ kind: 'unobserved', time: a.time, username: a.actor.username, operation: a.operation, uid: a.uid });
  }
  for (const w of sortedObserved) {
    if (used.has(w)) continue;
    const t = time(w.final);
    if (coverage !== undefined && t >= coverage.from - CLOCK_SKEW_MS && t <= coverage.to - COMPLETION_MARGIN_MS) {
      disagreements.push({
        kind: 'not-persisted',
        time: w.final.time,
        username: w.final.actor.username,
        operation: w.final.operation,
        uid: w.final.uid,
      });
      continue;
    }
    writes.push({ observed: w });
  }
  writes.sort((x, y) => time(x.audit ?? x.observed!.final) - time(y.audit ?? y.observed!.final));
  disagreements.sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
  return { writes, disagreements };
}
