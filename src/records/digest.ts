/**
 * A fingerprint of an object's content, for telling which of several admitted tries of a write the
 * API server persisted (src/ledger/persisted.ts). Bookkeeping that changes without anyone's write
 * (resourceVersion, managedFields, generation, status, the revision annotation: the NEVER_DRIFT
 * paths) is left out, so the object a validating webhook admits and the oldObject the next write
 * starts from give the same digest. Keys are sorted, so the server's member order does not matter.
 * A Secret's values are never hashed (a hash of a short value is as good as the value): only its
 * keys are. Pure.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../admission/types.js';

const METADATA_SKIP = new Set(['resourceVersion', 'generation', 'managedFields', 'uid', 'creationTimestamp', 'selfLink']);
const ANNOTATIONS_SKIP = new Set(['deployment.kubernetes.io/revision', 'kubectl.kubernetes.io/last-applied-configuration']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with every object's keys in order. */
function canonical(v: unknown, out: string[]): void {
  if (Array.isArray(v)) {
    out.push('[');
    v.forEach((x, i) => {
      if (i > 0) out.push(',');
      canonical(x, out);
    });
    out.push(']');
    return;
  }
  if (!isRecord(v)) {
    out.push(JSON.stringify(v) ?? 'null');
    return;
  }
  out.push('{');
  let first = true;
  for (const k of Object.keys(v).sort()) {
    if (v[k] === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(k), ':');
    canonical(v[k], out);
  }
  out.push('}');
}

function keysOnly(v: unknown): unknown {
  return isRecord(v) ? Object.keys(v).sort() : v;
}

/** The part of an object a write can change, as data to hash. */
function content(obj: KubeObject, secret: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
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
    } else out[k] = secret && (k === 'data' || k === 'stringData') ? keysOnly(v) : v;
  }
  return out;
}

/** 128 bits of SHA-256 over the object's content, base64url; undefined for no object. */
export function contentDigest(obj: KubeObject | null | undefined, secret: boolean): string | undefined {
  if (!isRecord(obj)) return undefined;
  const parts: string[] = [];
  canonical(content(obj, secret), parts);
  return createHash('sha256').update(parts.join('')).digest('base64url').slice(0, 22);
}
