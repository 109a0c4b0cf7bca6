/**
 * A fingerprint of an object's content, for telling which of several admitted tries of a write the
 * API server persisted (src/ledger/persisted.ts). Bookkeeping that changes without anyone's write
 * (resourceVersion, managedFields, generation, status, the revision annotation: the NEVER_DRIFT
 * paths) is left out, so the object a validating webhook admits and the oldObject the next write
 * starts from give the same digest. Members are hashed in the order the API server sends them: it
 * encodes every object the same way (a built-in kind in its Go fields' order, map keys such as
 * labels, annotations and a custom resource's members sorted), so equal content gives equal JSON;
 * sorting every object's keys here would triple the cost, on the admission path of every admitted
 * change (docs/performance.md, "Figures the code's comments rely on", for this and the figures below).
 * A Secret's values are never hashed (a hash of a short value is as good as the value): only its
 * keys are. A ConfigMap's values over 1 KiB (files, mostly) go in as their own SHA-256, `{"sha256":
 * …}`, not as JSON text: escaping them for JSON.stringify cost more than hashing them (half the
 * time for the bench's 100 KB ConfigMap), and a value the object and oldObject of one record both
 * hold under one name is hashed once (`ValueHashes`). A ConfigMap's
 * values are strings, so a stand-in cannot be mistaken for one; a map holding anything else is
 * hashed as JSON text whole. Pure.
 */
import { hash } from 'node:crypto';
import type { KubeObject } from '../k8s/admission.js';

const METADATA_SKIP = new Set(['resourceVersion', 'generation', 'managedFields', 'uid', 'creationTimestamp', 'selfLink']);
const ANNOTATIONS_SKIP = new Set(['deployment.kubernetes.io/revision', 'kubectl.kubernetes.io/last-applied-configuration']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keysOnly(v: unknown): unknown {
  return isRecord(v) ? Object.keys(v).sort() : v;
}

/** String.prototype.isWellFormed (Node 20; the project's TypeScript lib is ES2023). */
function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A ConfigMap value from this many characters on is hashed on its own. */
const SEPARATE_VALUE_CHARS = 1024;

/**
 * What starts the text hashed when stand-ins were used. JSON text of an object starts with `{`, so
 * content with stand-ins and content without never hash the same text, even where a hostile review
 * wrote a stand-in's shape itself.
 */
const STAND_INS = 'values hashed apart\n';

/**
 * The long values already hashed for one record, by member name: an update's object and oldObject
 * mostly hold the same files under the same names, and a value equal to the one hashed under its
 * name is not hashed again (comparing two strings costs a fraction of hashing one; so does looking
 * up a short name, where keying by the value itself would hash all of it to find it).
 */
export type ValueHashes = Map<string, { value: string; sha256: string }>;

/** A ConfigMap's `data` or `binaryData` with its long values replaced by their SHA-256; undefined when none is. */
function withLongValuesHashed(v: unknown, hashes: ValueHashes | undefined): Record<string, unknown> | undefined {
  if (!isRecord(v)) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const [k, value] of Object.entries(v)) {
    // Hashing encodes the value as UTF-8, which would merge two strings that differ only in lone
    // surrogates (the API server never sends one; a hostile review might): those stay JSON text.
    // A value that is not a string (no API server sends one) could pose as a stand-in: no stand-ins then.
    if (typeof value !== 'string') return undefined;
    if (value.length < SEPARATE_VALUE_CHARS || !wellFormed(value)) continue;
    out ??= { ...v };
    const known = hashes?.get(k);
    let sha256: string;
    if (known !== undefined && known.value === value) sha256 = known.sha256;
    else {
      sha256 = hash('sha256', value, 'base64url');
      hashes?.set(k, { value, sha256 });
    }
    out[k] = { sha256 };
  }
  return out;
}

function isConfigMap(obj: KubeObject): boolean {
  return obj.kind === 'ConfigMap' && obj.apiVersion === 'v1';
}

/** The part of an object a write can change, as the text to hash. */
function content(obj: KubeObject, secret: boolean, hashes: ValueHashes | undefined): string {
  const out: Record<string, unknown> = {};
  const configMap = !secret && isConfigMap(obj);
  let standIns = false;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'status') continue;
    if (k === 'metadata' && isRecord(v)) {
      const meta: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v)) {
        if (METADATA_SKIP.has(mk)) continue;
        if (mk === 'annotations' && isRecord(mv)) {
          const annotations: Record<string, unknown> = {};
          for (const [ak, av] of Object.entries(mv)) if (!ANNOTATIONS_SKIP.has(ak)) annotations[ak] = av;
          meta[mk] = annotations;
        } else meta[mk] = mv;
      }
      out[k] = meta;
    } else if (secret && (k === 'data' || k === 'stringData')) out[k] = keysOnly(v);
    else if (configMap && (k === 'data' || k === 'binaryData')) {
      const hashed = withLongValuesHashed(v, hashes);
      standIns ||= hashed !== undefined;
      out[k] = hashed ?? v;
    } else out[k] = v;
  }
  return standIns ? STAND_INS + JSON.stringify(out) : JSON.stringify(out);
}

/**
 * 128 bits of SHA-256 over the object's content, base64url; undefined for no object, and for one
 * JSON cannot encode (nested deeper than the stack: no real object is, a hostile review may be).
 * Never throws: a record without digests is judged as before (persisted.ts). `hashes`, shared by
 * the digests of one record, hashes a long value the two objects share once.
 */
export function contentDigest(obj: KubeObject | null | undefined, secret: boolean, hashes?: ValueHashes): string | undefined {
  if (!isRecord(obj)) return undefined;
  let json: string;
  try {
    json = content(obj, secret, hashes);
  } catch {
    return undefined;
  }
  return hash('sha256', json, 'base64url').slice(0, 22);
}
