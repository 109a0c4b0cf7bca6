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
 * `finals` and `observed` (entry and exit records) in any order. Each observation is used once;
 * a final takes the latest unused observation of its key within the window before it.
 */
export function pairStages(finals: readonly ChangeRecord[], observed: readonly ChangeRecord[]): PairingResult {
  const byKey = new Map<string, ChangeRecord[]>();
  for (const o of observed) {
    if (o.stage === 'final') continue;
    const k = `${o.stage} ${o.correlation}`;
    let list = byKey.get(k);
    if (list === undefined) byKey.set(k, (list = []));
    list.push(o);
  }
  for (const list of byKey.values()) list.sort((a, b) => time(a) - time(b));
  const used = new Set<ChangeRecord>();
  const take = (stage: 'entry' | 'exit', final: ChangeRecord): ChangeRecord | undefined => {
    const list = byKey.get(`${stage} ${final.correlation}`);
    if (list === undefined) return undefined;
    const t = time(final);
    // Before the final first; only then one that a skewed clock put a little after it.
    for (const limit of [t, t + CLOCK_SKEW_MS]) {
      for (let i = list.length - 1; i >= 0; i--) {
        const o = list[i]!;
        const ot = time(o);
        if (used.has(o) || ot > limit) continue;
        if (ot < t - PAIR_WINDOW_MS) break;
        used.add(o);
        return o;
      }
    }
    return undefined;
  };
  const writes = [...finals]
    .sort((a, b) => time(a) - time(b))
    .map((final) => {
      const entry = take('entry', final);
      const exit = take('exit', final);
      const w: PairedWrite = { final, webhookPaths: webhookPaths(final, entry, exit) };
      if (entry !== undefined) w.entry = entry;
      if (exit !== undefined) w.exit = exit;
      return w;
    });
  return { writes, unpaired: observed.filter((o) => o.stage !== 'final' && !used.has(o)).length };
}
