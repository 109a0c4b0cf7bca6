/**
 * Which admitted tries the API server persisted. An UPDATE runs inside the storage layer's
 * optimistic-concurrency loop: when another write lands first (or the first try started from the
 * watch cache's older copy), the server re-reads the object and runs the patch, the mutating and the
 * validating webhooks again, each call with a new uid. So one request can leave several `final`
 * records, of which only the last was written (docs/api-server.md, "Conflict retries").
 *
 * The records show which: every final carries the digest of what it would store (`objectDigest`)
 * and of the stored object it started from (`oldObjectDigest`). A try at resourceVersion N was
 * persisted when the next recorded version of the object (the smallest oldResourceVersion above N)
 * starts from what it would store. It was superseded when that version starts from something
 * else, and there is evidence of why: another try at N is the one that was stored, or the same
 * requester's request came again after it (its retry). Where the records cannot tell (the last
 * version recorded, a next version written through another subresource, no digests, versions that
 * are not numbers), the try counts as persisted, as before. Racing CREATEs of one name likewise:
 * see supersededCreates. Pure.
 */
import type { ChangeRecord, DriftRecord } from '../records/record.js';
import { PAIR_WINDOW_MS } from './pair.js';

function version(r: ChangeRecord): bigint | undefined {
  const v = r.oldResourceVersion;
  return v !== undefined && /^\d{1,30}$/.test(v) ? BigInt(v) : undefined;
}

function shape(r: ChangeRecord): string {
  return `${r.resource.group}/${r.resource.resource}/${r.resource.subResource ?? ''}`;
}

interface Versioned {
  r: ChangeRecord;
  v: bigint;
  t: number;
  shape: string;
  requester: string;
}

function requester(r: ChangeRecord): string {
  return `${r.operation} ${shape(r)} ${r.actor.username} ${r.fieldManager ?? ''}`;
}

/**
 * CREATEs racing for one name: the API server admits each (the validating webhook sees each with a
 * uid of its own) and stores one; the others get AlreadyExists. Of CREATE finals with no DELETE
 * between them and within a minute of each other, the one whose uid later writes carry was stored;
 * with no later write, the earliest (the server stores right after the validating call).
 */
function supersededCreates(finals: readonly ChangeRecord[], out: Set<ChangeRecord>): void {
  const later = new Set(finals.filter((f) => f.operation !== 'CREATE' && f.objectUid !== undefined).map((f) => f.objectUid));
  const sorted = finals.map((f) => ({ f, t: Date.parse(f.time) })).sort((a, b) => a.t - b.t);
  let run: { f: ChangeRecord; t: number }[] = [];
  const close = (): void => {
    if (run.length > 1) {
      const stored = run.filter((c) => later.has(c.f.objectUid));
      const keep = new Set(stored.length > 0 ? stored : [run[0]!]);
      const t = (stored[0] ?? run[0]!).t;
      // Far apart, a DELETE no record shows may lie between: both may have been stored.
      for (const c of run) if (!keep.has(c) && Math.abs(c.t - t) <= PAIR_WINDOW_MS) out.add(c.f);
    }
    run = [];
  };
  for (const x of sorted) {
    const f = x.f;
    if (f.operation === 'DELETE') close();
    else if (f.operation === 'CREATE' && f.objectUid !== undefined && f.resource.subResource === undefined) run.push(x);
  }
  close();
}

/** The final records (of one object) that the API server did not persist. */
export function supersededFinals(finals: readonly ChangeRecord[]): Set<ChangeRecord> {
  const out = new Set<ChangeRecord>();
  supersededCreates(finals, out);
  const versioned = finals
    .map((r) => ({ r, v: version(r), t: Date.parse(r.time), shape: shape(r), requester: requester(r) }))
    .filter((x): x is Versioned => x.v !== undefined);
  if (versioned.length < 2) return out;
  const byVersion = new Map<bigint, Versioned[]>();
  // Per requester, by time: where a retry after a try is looked for.
  const byRequester = new Map<string, Versioned[]>();
  for (const x of versioned) {
    let list = byVersion.get(x.v);
    if (list === undefined) byVersion.set(x.v, (list = []));
    list.push(x);
    let mine = byRequester.get(x.requester);
    if (mine === undefined) byRequester.set(x.requester, (mine = []));
    mine.push(x);
  }
  for (const mine of byRequester.values()) mine.sort((a, b) => a.t - b.t);
  /** The same requester's request at a higher version within the window after x (its retry). */
  const retried = (x: Versioned): boolean => {
    const mine = byRequester.get(x.requester)!;
    let lo = 0;
    let hi = mine.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (mine[mid]!.t < x.t) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < mine.length && mine[i]!.t - x.t <= PAIR_WINDOW_MS; i++) if (mine[i]!.v > x.v) return true;
    return false;
  };
  const versions = [...byVersion.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i + 1 < versions.length; i++) {
    const at = byVersion.get(versions[i]!)!;
    const next = byVersion.get(versions[i + 1]!)!;
    // Starting points of the next version, per shape: a Scale's digest says nothing of a Deployment's.
    const startPoints = new Map<string, Set<string>>();
    for (const n of next) {
      if (n.r.oldObjectDigest === undefined) continue;
      let set = startPoints.get(n.shape);
      if (set === undefined) startPoints.set(n.shape, (set = new Set()));
      set.add(n.r.oldObjectDigest);
    }
    const startsFrom = (x: Versioned): boolean | undefined => {
      const same = startPoints.get(x.shape);
      if (same === undefined || x.r.objectDigest === undefined) return undefined;
      return same.has(x.r.objectDigest);
    };
    const verdicts = at.map((x) => ({ x, stored: startsFrom(x) }));
    // Tries that would store the same content: one of them was stored, the earliest (the server
    // writes right after the validating call); the others found nothing left to change.
    const winners = verdicts.filter((v) => v.stored === true).sort((a, b) => a.x.t - b.x.t);
    for (const extra of winners.slice(1))
      if (extra.x.r.objectDigest === winners[0]!.x.r.objectDigest && extra.x.shape === winners[0]!.x.shape) out.add(extra.x.r);
    // x itself is never among the winners (its verdict is false): any winner is another try at N.
    const otherStored = winners.length > 0;
    for (const { x, stored } of verdicts) {
      if (stored !== false) continue;
      if (otherStored || retried(x)) out.add(x.r);
    }
  }
  return out;
}

/**
 * The uids of the validating calls whose tries were not persisted, over records of any objects:
 * their violation records (a warn or audit policy's, which every try writes again) are no more a
 * write than their final records are. Takes records already checked (parseRecord).
 */
export function supersededUids(records: readonly DriftRecord[]): Set<string> {
  const byObject = new Map<string, ChangeRecord[]>();
  for (const c of records) {
    if (c.type !== 'change' || c.stage !== 'final') continue;
    const r = c.resource;
    const k = `${r.group}/${r.resource}/${r.namespace ?? ''}/${r.name ?? ''}`;
    let list = byObject.get(k);
    if (list === undefined) byObject.set(k, (list = []));
    list.push(c);
  }
  const out = new Set<string>();
  for (const finals of byObject.values()) for (const f of supersededFinals(finals)) out.add(f.uid);
  return out;
}
