/**
 * Records read back from files are untrusted JSON: these check the fields the ledger uses and
 * return typed records, or undefined for a line of the right schema but the wrong shape.
 */
import type { ReadRecord } from '../records/read.js';
import type { ChangeRecord, RecordChange, ViolationRecord } from '../records/schema.js';

const STAGES = new Set(['entry', 'exit', 'final']);
const OPS = new Set(['add', 'remove', 'replace']);

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function commonShape(r: Record<string, unknown>): boolean {
  const actor = r.actor;
  const res = r.resource;
  return (
    isObj(actor) &&
    typeof actor.username === 'string' &&
    typeof r.actorClass === 'string' &&
    typeof r.operation === 'string' &&
    typeof r.uid === 'string' &&
    isObj(res) &&
    typeof res.group === 'string' &&
    typeof res.resource === 'string' &&
    (res.namespace === undefined || typeof res.namespace === 'string') &&
    (res.name === undefined || typeof res.name === 'string') &&
    (r.fieldManager === undefined || typeof r.fieldManager === 'string') &&
    Array.isArray(r.changes) &&
    r.changes.every(
      (c: unknown) =>
        isObj(c) && typeof c.path === 'string' && (c.keyed === undefined || typeof c.keyed === 'string') && OPS.has(c.op as string),
    )
  );
}

export function asChangeRecord(r: ReadRecord): ChangeRecord | undefined {
  if (r.type !== 'change' || !STAGES.has(r.stage as string) || typeof r.correlation !== 'string' || !commonShape(r)) return undefined;
  return r as unknown as ChangeRecord;
}

export function asViolationRecord(r: ReadRecord): ViolationRecord | undefined {
  if (
    r.type !== 'violation' ||
    typeof r.policy !== 'string' ||
    typeof r.decision !== 'string' ||
    typeof r.allowed !== 'boolean' ||
    !commonShape(r)
  )
    return undefined;
  return r as unknown as ViolationRecord;
}

/**
 * Which field a change is, across writes: its keyed path (v2 records, an item of a keyed list),
 * else its JSON Pointer (everything else, and every v1 record).
 */
export function fieldOf(c: RecordChange): string {
  return c.keyed ?? c.path;
}

/** A change's identity for comparing two stages: what it does at its path. */
export function changeKey(c: RecordChange): string {
  return `${c.op} ${JSON.stringify(c.new ?? null)}`;
}
