/**
 * `explain`: per field, the last known value, who set it last, what GitOps last set, whether it
 * has drifted (the last writer after the last GitOps write is not GitOps), whether a mutating
 * webhook set it, and whether GitOps reverted an earlier drift. Pure: a timeline in, data out.
 */
import type { ActorClass } from '../match/actors.js';
import { isAtOrBelow } from '../match/pointer.js';
import { isAtOrBelowKeyed } from '../match/keyed-path.js';
import { changeField } from '../engine/field-list.js';
import type { Operation } from '../k8s/admission.js';
import type { LedgerChange, TimelineEntry, WriteEntry } from './timeline.js';

type WriterClass = ActorClass | 'webhook';

/** A mutating webhook, named as the API server names it: its configuration and the webhook in it. */
interface WebhookRef {
  /** The MutatingWebhookConfiguration's name (m-injector). */
  configuration: string;
  /** The webhook's name inside it (inject.example.com). */
  webhook: string;
}

/** The request's actor: who sent the write. */
interface Requester {
  username: string;
  actorClass: ActorClass;
  /** The request's field manager. */
  fieldManager?: string;
}

/** The request's actor wrote the field: what they sent set it. */
interface ActorWriter extends Requester {
  kind: 'actor';
  time: string;
  operation: Operation;
}

/**
 * A mutating webhook wrote the field: it appeared between driftguard's entry and exit observers of
 * a write. `requestedBy` is whose write that was, not who set the field.
 */
export interface WebhookWriter {
  kind: 'webhook';
  actorClass: 'webhook';
  /**
   * The mutating webhooks whose rules match the write (the records cannot tell which of several set
   * the field); [] when none matches now; absent when unknown (no cluster to ask).
   */
  webhooks?: WebhookRef[];
  time: string;
  operation: Operation;
  requestedBy: Requester;
}

export type FieldWriter = ActorWriter | WebhookWriter;

export interface FieldValue {
  value: unknown;
  removed: boolean;
  truncated?: true;
}

export interface FieldExplanation extends FieldValue {
  /** The field: its keyed path (docs/keyed-paths.md), which is its JSON Pointer outside keyed lists and in v1 records. */
  path: string;
  /** The JSON Pointer (list items by index) at the last write, when it differs from `path`. */
  pointer?: string;
  lastWriter: FieldWriter;
  /** What GitOps last set here (from its CREATE or a later write), when a record shows it. */
  gitops?: FieldValue & { username: string; time: string; fieldManager?: string };
  /** The last writer after the last GitOps write is a person, a controller or unknown. */
  drift: boolean;
  /** The last value came from a mutating webhook. */
  setByWebhook: boolean;
  /** The most recent drift GitOps overwrote, when GitOps wrote last. */
  reverted?: { by: string; at: string; afterSeconds: number; driftBy: string; driftAt: string };
  /** Writes to this field within the window. */
  writes: number;
}

export interface ExplainOptions {
  since?: Date;
  until?: Date;
  /** Keyed paths or JSON Pointers (normalizeKeyedPath): only these fields and what lies below them. */
  fields?: readonly string[];
  /** Also list fields only ever set by GitOps when it created the object. */
  all?: boolean;
  /** The mutating webhooks that could have set a field in this write; undefined = unknown (offline). */
  webhookCandidates?: (write: Pick<WriteEntry, 'operation' | 'resource'>) => WebhookRef[] | undefined;
}

export interface Explanation {
  fields: FieldExplanation[];
  /** The last admitted write deleted the object. */
  deleted?: { by: string; actorClass: ActorClass; time: string };
  /** The last CREATE seen (fields reset there). */
  created?: { by: string; actorClass: ActorClass; time: string };
  writes: number;
}

interface FieldEvent {
  change: LedgerChange;
  write: WriteEntry;
  t: number;
}

function cls(e: FieldEvent): WriterClass {
  return e.change.by === 'webhook' ? 'webhook' : e.write.actorClass;
}

function isGitOps(e: FieldEvent): boolean {
  return cls(e) === 'gitops';
}

function valueOf(c: LedgerChange): FieldValue {
  const v: FieldValue = c.op === 'remove' ? { value: null, removed: true } : { value: c.new, removed: false };
  if (c.truncated === true) v.truncated = true;
  return v;
}

function requester(write: WriteEntry): Requester {
  const r: Requester = { username: write.actor.username, actorClass: write.actorClass };
  if (write.fieldManager !== undefined) r.fieldManager = write.fieldManager;
  return r;
}

function writer(e: FieldEvent, candidates: ExplainOptions['webhookCandidates']): FieldWriter {
  const { time, operation } = e.write;
  if (e.change.by !== 'webhook') return { kind: 'actor', ...requester(e.write), time, operation };
  // The audit log names the webhook whose patch set the field; else the ones that could have.
  const webhooks = e.change.webhook !== undefined ? [e.change.webhook] : candidates?.(e.write);
  return {
    kind: 'webhook',
    actorClass: 'webhook',
    ...(webhooks === undefined ? {} : { webhooks }),
    time,
    operation,
    requestedBy: requester(e.write),
  };
}

export function explainTimeline(timeline: readonly TimelineEntry[], opts: ExplainOptions = {}): Explanation {
  const since = opts.since?.getTime() ?? -Infinity;
  const until = opts.until?.getTime() ?? Infinity;
  let events = new Map<string, FieldEvent[]>();
  const out: Explanation = { fields: [], writes: 0 };
  for (const entry of timeline) {
    if (entry.kind !== 'write') continue;
    const t = Date.parse(entry.time);
    if (t >= until) break;
    out.writes++;
    if (entry.operation === 'DELETE') {
      events = new Map();
      out.deleted = { by: entry.actor.username, actorClass: entry.actorClass, time: entry.time };
      delete out.created;
      continue;
    }
    if (entry.operation === 'CREATE') {
      // A new object: what the old one had is no longer its state.
      events = new Map();
      delete out.deleted;
      out.created = { by: entry.actor.username, actorClass: entry.actorClass, time: entry.time };
    }
    for (const change of entry.changes) {
      if (change.path === '') continue;
      const field = changeField(change);
      let list = events.get(field);
      if (list === undefined) events.set(field, (list = []));
      list.push({ change, write: entry, t });
    }
  }
  if (out.deleted !== undefined) return out;

  for (const [path, list] of events) {
    if (
      opts.fields !== undefined &&
      opts.fields.length > 0 &&
      !opts.fields.some((f) => fieldSelected(path, list[list.length - 1]!.change.path, f))
    )
      continue;
    const inWindow = list.filter((e) => e.t >= since);
    const noteworthy = inWindow.filter((e) => !(e.write.operation === 'CREATE' && isGitOps(e)));
    if (inWindow.length === 0 || (opts.all !== true && noteworthy.length === 0)) continue;
    const last = list[list.length - 1]!;
    const lastGitOpsIndex = list.findLastIndex(isGitOps);
    const field: FieldExplanation = {
      path,
      ...valueOf(last.change),
      lastWriter: writer(last, opts.webhookCandidates),
      drift: !isGitOps(last) && cls(last) !== 'webhook',
      ...(last.change.path !== path ? { pointer: last.change.path } : {}),
      setByWebhook: cls(last) === 'webhook',
      writes: inWindow.length,
    };
    if (lastGitOpsIndex >= 0) {
      const g = list[lastGitOpsIndex]!;
      field.gitops = { ...valueOf(g.change), username: g.write.actor.username, time: g.write.time };
      if (g.write.fieldManager !== undefined) field.gitops.fieldManager = g.write.fieldManager;
      if (g === last) {
        // The drift episode GitOps closed: non-GitOps writes since the GitOps write before it.
        const previous = list.findLastIndex((e, i) => i < lastGitOpsIndex && isGitOps(e));
        const drifted = list.slice(previous + 1, lastGitOpsIndex).filter((e) => !isGitOps(e));
        const first = drifted[0];
        if (first !== undefined && g.t >= since) {
          field.reverted = {
            by: g.write.actor.username,
            at: g.write.time,
            afterSeconds: Math.round((g.t - first.t) / 1000),
            driftBy: first.write.actor.username,
            driftAt: first.write.time,
          };
        }
      }
    }
    out.fields.push(field);
  }
  out.fields.sort((a, b) => comparePointers(a.path, b.path));
  return out;
}

/** A field is selected by a keyed path at or above it, or by a JSON Pointer at or above where it is now. */
export function fieldSelected(field: string, pointer: string, selector: string): boolean {
  return isAtOrBelowKeyed(field, selector) || isAtOrBelow(pointer, selector);
}

/** Order JSON Pointers token by token, array indices as numbers (containers/2 before containers/10). */
function comparePointers(a: string, b: string): number {
  const ta = a.split('/');
  const tb = b.split('/');
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}
