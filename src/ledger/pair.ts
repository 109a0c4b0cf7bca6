/**
 * Pairing the observation points of one request, at read time. An install of today registers two:
 * the entry observer and the validating call (final); the exit observer of earlier installs is
 * folded into the validating call, which sees the object after every mutating webhook too
 * (docs/api-server.md, "What the exit observer added"). Exit records still written by such an
 * install are paired and used as before. The API server gives every
 * webhook call a new uid and the calls may land on different replicas, so entry, exit and final
 * are joined by their correlation key (operation, resource, namespace, name or generateName,
 * requester, the stored object's resourceVersion) and by time: an entry or exit pairs with the
 * first final after it that has the same key, within PAIR_WINDOW_MS.
 */
import { setAfterMutation } from '../k8s/set-after-mutation.js';
import { changeField } from '../engine/field-list.js';
import type { ChangeRecord, RecordChange } from '../records/record.js';

/** A change's identity for comparing two stages: what it does at its path. */
function changeKey(c: RecordChange): string {
  return `${c.op} ${JSON.stringify(c.new ?? null)}`;
}

/** How far before its final an entry or exit may be: the API server's whole admission chain fits in it. */
export const PAIR_WINDOW_MS = 60_000;
/** Replica clocks differ a little: an observation may carry a time slightly after its final. */
export const CLOCK_SKEW_MS = 5_000;

export interface PairedWrite {
  final: ChangeRecord;
  entry?: ChangeRecord;
  exit?: ChangeRecord;
  /** Fields (changeField) the final record holds that mutating webhooks set: changed between entry and exit. */
  webhookPaths: Set<string>;
}

export interface PairingResult {
  writes: PairedWrite[];
  /** Entry and exit records no final claimed (denied, failed, or a final on a replica not read). */
  unpaired: number;
}

function time(r: ChangeRecord): number {
  return Date.parse(r.time);
}

/**
 * Fields present (or different) after the mutating webhooks but not at entry, as far as the final
 * kept them. "After the mutating webhooks" is the exit record where one was written, else the final
 * itself, less the fields the API server sets between the two (src/k8s/set-after-mutation.ts).
 * No entry (observe: none, or the observer failed open): nothing can be told, nothing is a webhook's.
 */
export function webhookPaths(final: ChangeRecord, entry: ChangeRecord | undefined, exit: ChangeRecord | undefined): Set<string> {
  const out = new Set<string>();
  if (entry === undefined) return out;
  const after = exit ?? final;
  // By field: an item a webhook inserted before others moves their indices, not their keys.
  const atEntry = new Map(entry.changes.map((c) => [changeField(c), changeKey(c)]));
  // An entry that listed only part of its changes cannot say a path was absent.
  const entryComplete = (entry.changesOmitted ?? 0) === 0;
  const finalPaths = new Set(final.changes.map(changeField));
  for (const c of after.changes) {
    const field = changeField(c);
    if (!finalPaths.has(field)) continue;
    if (exit === undefined && setAfterMutation(final.resource, c.path)) continue;
    const before = atEntry.get(field);
    if (before === undefined ? entryComplete : before !== changeKey(c)) out.add(field);
  }
  return out;
}

/**
 * One key's observations, sorted by time, each used at most once: the latest unused one at or
 * before a time is found by binary search, then by skipping used ones through `up` (each used index
 * points at an earlier one that may be unused, shortened as it is followed), so
 * pairing n observations costs O(n log n), not one scan of the list per final.
 */
class Observations {
  readonly times: number[];
  /** up[i] === i: unused; else an index before i that may be unused (-1: none). */
  private readonly up: number[];

  constructor(readonly list: ChangeRecord[]) {
    list.sort((a, b) => time(a) - time(b));
    this.times = list.map(time);
    this.up = list.map((_, i) => i);
  }

  /** The last index whose time is <= limit, or -1. */
  private lastAtOrBefore(limit: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! <= limit) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The nearest unused index at or before i (or -1). */
  private unused(i: number): number {
    let j = i;
    while (j >= 0 && this.up[j] !== j) j = this.up[j]!;
    // Compress: every index walked now points at the answer.
    let k = i;
    while (k > j) {
      const next = this.up[k]!;
      this.up[k] = j;
      k = next;
    }
    return j;
  }

  /** Take the latest unused observation with a time in [from, limit]. */
  take(from: number, limit: number): ChangeRecord | undefined {
    const i = this.unused(this.lastAtOrBefore(limit));
    if (i < 0 || this.times[i]! < from) return undefined;
    this.up[i] = i - 1;
    return this.list[i];
  }
}

/**
 * `finals` and `observed` (entry and exit records) in any order. Each observation is used once;
 * a final takes the latest unused observation of its key within the window before it.
 */
export function pairStages(finals: readonly ChangeRecord[], observed: readonly ChangeRecord[]): PairingResult {
  const lists = new Map<string, ChangeRecord[]>();
  for (const o of observed) {
    if (o.stage === 'final') continue;
    const k = `${o.stage} ${o.correlation}`;
    let list = lists.get(k);
    if (list === undefined) lists.set(k, (list = []));
    list.push(o);
  }
  const byKey = new Map<string, Observations>();
  for (const [k, list] of lists) byKey.set(k, new Observations(list));
  const used = new Set<ChangeRecord>();
  const take = (stage: 'entry' | 'exit', final: ChangeRecord, t: number): ChangeRecord | undefined => {
    const list = byKey.get(`${stage} ${final.correlation}`);
    if (list === undefined) return undefined;
    // Before the final first; only then one that a skewed clock put a little after it.
    const o = list.take(t - PAIR_WINDOW_MS, t) ?? list.take(t - PAIR_WINDOW_MS, t + CLOCK_SKEW_MS);
    if (o !== undefined) used.add(o);
    return o;
  };
  const writes = finals
    .map((final) => ({ final, t: time(final) }))
    .sort((a, b) => a.t - b.t)
    .map(({ final, t }) => {
      const entry = take('entry', final, t);
      const exit = take('exit', final, t);
      const w: PairedWrite = { final, webhookPaths: webhookPaths(final, entry, exit) };
      if (entry !== undefined) w.entry = entry;
      if (exit !== undefined) w.exit = exit;
      return w;
    });
  return { writes, unpaired: observed.filter((o) => o.stage !== 'final' && !used.has(o)).length };
}
