/**
 * The records the report loop computes from: every violation record and every final change record
 * this replica writes, kept in memory by object, bounded per object (the newest are kept) and in
 * objects (the object written least recently is forgotten first). Entry and exit records are not
 * kept: a report needs no webhook attribution, and they are two thirds of the lines.
 *
 * `add` is called from the record sink, on the admission path: it does O(1) work and never throws.
 */
import type { ReadRecord } from '../records/read.js';
import type { ObjectQuery } from '../k8s/object-ref.js';
import { apiVersion, targetKind } from '../k8s/object-ref.js';
import type { RecordSink } from '../records/sink.js';
import type { Told } from './compute.js';

export interface StoredObject {
  key: string;
  target: ObjectQuery;
  apiVersion: string;
  kind: string;
  uid?: string;
  records: ReadRecord[];
  /** What each validating call told the requester, by its uid (compute.ts: Told); as bounded as the records. */
  told: Map<string, Told>;
}

export interface RecordStoreOptions {
  maxObjects: number;
  maxRecordsPerObject: number;
  /** An object was taken in or got a record (its key). */
  onChange: (key: string) => void;
}

interface Resource {
  group?: unknown;
  version?: unknown;
  resource?: unknown;
  subResource?: unknown;
  kind?: unknown;
  namespace?: unknown;
  name?: unknown;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function objectKey(t: { group?: string; resource: string; namespace?: string | undefined; name: string }): string {
  return `${t.group ?? ''}/${t.resource}/${t.namespace ?? ''}/${t.name}`;
}

export class RecordStore {
  private readonly objects = new Map<string, StoredObject>();
  private readonly o: RecordStoreOptions;

  constructor(opts: RecordStoreOptions) {
    this.o = opts;
  }

  get size(): number {
    return this.objects.size;
  }

  get(key: string): StoredObject | undefined {
    return this.objects.get(key);
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  forget(key: string): void {
    this.objects.delete(key);
  }

  /** A record as the sink wrote it; anything not a violation or final change record is passed over. */
  add(record: object): void {
    try {
      const r = record as Record<string, unknown>;
      const type = r.type;
      if (type !== 'violation' && !(type === 'change' && r.stage === 'final')) return;
      const res = r.resource as Resource | undefined;
      const name = str(res?.name);
      const group = str(res?.group);
      const resource = str(res?.resource);
      const version = str(res?.version);
      const kind = str(res?.kind);
      if (name === undefined || name === '' || group === undefined || resource === undefined || version === undefined || kind === undefined)
        return;
      const namespace = str(res?.namespace) ?? '';
      const target: ObjectQuery = { group, resource, name, ...(namespace === '' ? {} : { namespace }) };
      const key = objectKey(target);
      let obj = this.objects.get(key);
      if (obj === undefined) {
        obj = {
          key,
          target,
          apiVersion: apiVersion({ group, version }),
          kind: targetKind({ group, resource, subResource: str(res?.subResource), kind }),
          records: [],
          told: new Map(),
        };
      } else this.objects.delete(key);
      // Re-inserted: the map's order is least recently written first.
      this.objects.set(key, obj);
      const uid = str(r.objectUid);
      if (uid !== undefined && uid !== '') obj.uid = uid;
      // A whole-object request tells the kind and version best (a Scale names its parent's group only).
      if (str(res?.subResource) === undefined) {
        obj.kind = kind;
        obj.apiVersion = apiVersion({ group, version });
      }
      obj.records.push(r as ReadRecord);
      if (obj.records.length > this.o.maxRecordsPerObject) obj.records.splice(0, obj.records.length - this.o.maxRecordsPerObject);
      while (this.objects.size > this.o.maxObjects) {
        const oldest = this.objects.keys().next().value;
        if (oldest === undefined) break;
        this.objects.delete(oldest);
      }
      this.o.onChange(key);
    } catch {
      // A record the store cannot read costs its report, never the request.
    }
  }

  /**
   * Records of the object read elsewhere (the records store): those it lacks are added, in time
   * order, the newest kept within the bound. Only the kinds `add` keeps; no change is announced.
   */
  merge(key: string, records: readonly ReadRecord[]): void {
    const obj = this.objects.get(key);
    if (obj === undefined) return;
    const have = new Set(obj.records.map((r) => JSON.stringify(r)));
    let added = 0;
    for (const r of records) {
      if (r.type !== 'violation' && !(r.type === 'change' && (r as { stage?: unknown }).stage === 'final')) continue;
      const line = JSON.stringify(r);
      if (have.has(line)) continue;
      have.add(line);
      obj.records.push(r);
      added++;
    }
    if (added === 0) return;
    const time = (r: ReadRecord) => Date.parse(String((r as { time?: unknown }).time));
    obj.records.sort((a, b) => time(a) - time(b));
    if (obj.records.length > this.o.maxRecordsPerObject) obj.records.splice(0, obj.records.length - this.o.maxRecordsPerObject);
  }

  /** What a validating call on the object told the requester (its records were written just before). */
  setTold(key: string, uid: string, told: Told): void {
    const obj = this.objects.get(key);
    if (obj === undefined) return;
    obj.told.set(uid, told);
    if (obj.told.size > this.o.maxRecordsPerObject) obj.told.delete(obj.told.keys().next().value!);
    this.o.onChange(key);
  }

  /** The uid of an object whose records carry none yet (a denied request names its stored object). */
  setUid(key: string, uid: string): void {
    const obj = this.objects.get(key);
    if (obj !== undefined && obj.uid === undefined) {
      obj.uid = uid;
      this.o.onChange(key);
    }
  }
}

/** The same sink, every record also handed to `add` (after it was written). */
export function teeSink(sink: RecordSink, add: (record: object) => void): RecordSink {
  return {
    write(record) {
      sink.write(record);
      add(record);
    },
    flush: () => sink.flush(),
    flushSync: () => sink.flushSync(),
    close: () => sink.close(),
  };
}
