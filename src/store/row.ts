/**
 * A record as a row of the store. Records carry no id of their own (`uid` is the webhook call's,
 * shared by the violation and final records of one call), so the row's id is derived: the first
 * 128 bits of SHA-256 over the record's JSON line, exactly as the records file holds it, base64url.
 * The same record shipped by serve, imported from a file again, or replayed from the spool after a
 * crash gives the same id, and `ON CONFLICT DO NOTHING` keeps one row. Two records equal to the byte
 * (same millisecond, same call, same content) are one row: they say the same thing.
 *
 * The columns other than `line` are what readers filter on; the record itself is kept as the line,
 * text, byte for byte, so a reader parses what the file would have held (key order included).
 */
import { hash } from 'node:crypto';
import type { RecordResource } from '../records/record.js';

export interface StoreRow {
  time: string;
  id: string;
  cluster: string;
  type: string;
  stage: string | null;
  apiGroup: string;
  /** Lower case: readers match the resource regardless of case, as the file readers do. */
  resource: string;
  subresource: string;
  kind: string;
  namespace: string;
  name: string | null;
  username: string;
  policy: string | null;
  decision: string | null;
  uid: string;
  /** Changed fields, keyed paths and JSON Pointers both, newline-separated (split into text[] by the INSERT). */
  fields: string;
  line: string;
}

function recordId(line: string): string {
  return hash('sha256', line, 'base64url').slice(0, 22);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The row for one record line; undefined when the line is not a record the readers could use. */
export function toRow(line: string, record: Record<string, unknown>): StoreRow | undefined {
  const time = str(record.time);
  const type = str(record.type);
  const res = record.resource as RecordResource | undefined;
  const actor = record.actor as { username?: unknown } | undefined;
  if (time === undefined || type === undefined || Number.isNaN(Date.parse(time))) return undefined;
  if (typeof res !== 'object' || res === null || typeof res.resource !== 'string') return undefined;
  const fields: string[] = [];
  if (Array.isArray(record.changes)) {
    for (const c of record.changes as Array<{ path?: unknown; keyed?: unknown }>) {
      if (typeof c?.path === 'string') fields.push(c.path);
      if (typeof c?.keyed === 'string' && c.keyed !== c.path) fields.push(c.keyed);
    }
  }
  return {
    time,
    id: recordId(line),
    cluster: str(record.cluster) ?? '',
    type,
    stage: str(record.stage) ?? null,
    apiGroup: str(res.group) ?? '',
    resource: res.resource.toLowerCase(),
    subresource: str(res.subResource) ?? '',
    kind: str(res.kind) ?? '',
    namespace: str(res.namespace) ?? '',
    name: str(res.name) ?? null,
    username: str(actor?.username) ?? '',
    policy: str(record.policy) ?? null,
    decision: str(record.decision) ?? null,
    uid: str(record.uid) ?? '',
    fields: fields.join('\n'),
    line,
  };
}
