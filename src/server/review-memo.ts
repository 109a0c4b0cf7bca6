/**
 * One parse for the webhook calls of one write. The API server calls driftguard's entry observer,
 * its exit observer and the validating webhook for the same write, each with a review of its own
 * uid (docs/api-server.md, "Every webhook call has its own uid"); where no other mutating webhook
 * changed the object in between, the bodies are byte for byte the same but for that uid. The memo
 * keeps the last few bodies it parsed and, for a body equal to one of them outside the uid, hands
 * back that parse with the new uid: a byte comparison (memcmp) instead of JSON.parse.
 *
 * Only bodies as the API server encodes them qualify: they start with `{"kind":"AdmissionReview",
 * "apiVersion":"admission.k8s.io/v1","request":{"uid":"` (Go's struct order: TypeMeta, then the
 * request with its uid first), so the bytes that differ are the request's uid and nothing else, and
 * the uid is plain (letters, digits, `-`). Any other body is parsed as always. A reused request
 * shares its objects with the first: nothing on the review path writes to a request's objects.
 *
 * The validating call comes after mutating admission, which bumps `object.metadata.generation` for
 * a spec change (docs/api-server.md): its body is the observers' but for the uid and that number.
 * Such a body is answered from the observers' parse too, with the new generation in a copy of the
 * object's metadata, when the bytes differ in one run of digits only, that run is the value of
 * `request.object.metadata.generation` (the path is read from the bytes before it), and the parse
 * held that number. It is the write's last call, so the entry is then dropped.
 * Entries expire after `maxAgeMs` (the calls of one write come within milliseconds), bodies above
 * `maxBodyBytes` are never kept and the bodies kept add up to `maxTotalBytes` at most, so the memo
 * holds a few MiB (bodies and their parses) whatever the load.
 */
import type { AdmissionRequest } from '../k8s/admission.js';

const PREFIX = Buffer.from('{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"');
const QUOTE = 0x22;
const MAX_UID = 128;

export interface ReviewMemoOptions {
  /** Bodies kept (most recent first out). */
  entries?: number;
  maxBodyBytes?: number;
  /** The bodies kept, together, at most (the oldest go first). */
  maxTotalBytes?: number;
  maxAgeMs?: number;
  /** Milliseconds, monotonic; replaceable for tests. */
  now?: () => number;
  /** Called for every body answered from an earlier parse (a metric). */
  onReuse?: () => void;
}

interface Entry {
  body: Buffer;
  /** Where the uid ends (its closing quote) in `body`. */
  uidEnd: number;
  request: AdmissionRequest;
  at: number;
}

const ZERO = 0x30;
const NINE = 0x39;
const BACKSLASH = 0x5c;
const GENERATION_PATH = ['request', 'object', 'metadata', 'generation'];

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function isUidByte(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

/** The index of the uid's closing quote, or -1 when the body is not one the memo may reuse. */
function uidEnd(body: Buffer): number {
  if (body.length <= PREFIX.length || body.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return -1;
  const limit = Math.min(body.length, PREFIX.length + MAX_UID + 1);
  for (let i = PREFIX.length; i < limit; i++) {
    const c = body[i]!;
    if (c === QUOTE) return i > PREFIX.length ? i : -1;
    if (!isUidByte(c)) return -1;
  }
  return -1;
}

/** The length of the longest common prefix of a[aFrom..] and b[bFrom..] (memcmp by halves). */
function commonPrefix(a: Buffer, aFrom: number, b: Buffer, bFrom: number): number {
  let lo = 0;
  let hi = Math.min(a.length - aFrom, b.length - bFrom);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    // Is the prefix of length mid equal? Only [lo, mid) is left to check.
    if (a.compare(b, bFrom + lo, bFrom + mid, aFrom + lo, aFrom + mid) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The member names from the top of a JSON document down to the value that starts at `at`, read
 * from the bytes before it: ["request", "object", ...]. Array levels show as "[]". Undefined when
 * the bytes before `at` are not the start of a JSON value where a member value begins. Names with
 * escapes are kept raw (they match no name this module looks for).
 */
export function memberPathAt(body: Buffer, at: number): string[] | undefined {
  const path: string[] = [];
  const inObject: boolean[] = [];
  let key: string | undefined;
  let expectKey = false;
  let i = 0;
  while (i < at) {
    const c = body[i]!;
    if (c === QUOTE) {
      let end = body.indexOf(QUOTE, i + 1);
      while (end > 0 && end < at) {
        let slashes = 0;
        while (body[end - 1 - slashes] === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end = body.indexOf(QUOTE, end + 1);
      }
      if (end < 0 || end >= at) return undefined;
      if (expectKey) key = body.toString('latin1', i + 1, end);
      expectKey = false;
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (inObject.length > 0) path.push(inObject.at(-1) ? (key ?? '') : '[]');
      inObject.push(c === 0x7b);
      expectKey = c === 0x7b;
      key = undefined;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      inObject.pop();
      path.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = inObject.at(-1) === true;
    }
    i++;
  }
  if (inObject.at(-1) !== true || key === undefined || body[at - 1] !== 0x3a /* : */) return undefined;
  return [...path, key];
}

export class ReviewMemo {
  private readonly entries: Entry[] = [];
  private readonly size: number;
  private readonly maxBodyBytes: number;
  private readonly maxTotalBytes: number;
  private readonly maxAgeMs: number;
  private total = 0;
  private readonly now: () => number;
  private readonly onReuse: (() => void) | undefined;

  constructor(opts: ReviewMemoOptions = {}) {
    this.size = opts.entries ?? 16;
    this.maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024;
    this.maxTotalBytes = opts.maxTotalBytes ?? 1024 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? 1_000;
    this.now = opts.now ?? (() => performance.now());
    this.onReuse = opts.onReuse;
  }

  /** The request of an earlier body equal to this one but for its uid, carrying this body's uid. */
  reuse(body: Buffer): AdmissionRequest | undefined {
    if (this.entries.length === 0 || body.length > this.maxBodyBytes) return undefined;
    const end = uidEnd(body);
    if (end < 0) return undefined;
    const now = this.now();
    for (const e of this.entries) {
      if (now - e.at > this.maxAgeMs) continue;
      // Same length outside the uid, then the bytes after it (the whole request but its uid).
      if (e.body.length - e.uidEnd !== body.length - end) continue;
      if (body.compare(e.body, e.uidEnd, e.body.length, end, body.length) !== 0) continue;
      this.onReuse?.();
      return { ...e.request, uid: body.toString('latin1', PREFIX.length, end) };
    }
    for (let n = 0; n < this.entries.length; n++) {
      const e = this.entries[n]!;
      if (now - e.at > this.maxAgeMs || Math.abs(e.body.length - e.uidEnd - (body.length - end)) > 1) continue;
      const generation = this.bumpedGeneration(e, body, end);
      if (generation === undefined) continue;
      this.total -= e.body.length;
      this.entries.splice(n, 1);
      this.onReuse?.();
      const r = e.request;
      const object = r.object!;
      return {
        ...r,
        uid: body.toString('latin1', PREFIX.length, end),
        object: { ...object, metadata: { ...object.metadata, generation } },
      };
    }
    return undefined;
  }

  /**
   * The body's `request.object.metadata.generation` when the body is the entry's but for its uid
   * and that number (the validating call of the same write); else undefined.
   */
  private bumpedGeneration(e: Entry, body: Buffer, end: number): number | undefined {
    const was = (e.request.object?.metadata as { generation?: unknown } | undefined)?.generation;
    if (typeof was !== 'number') return undefined;
    // Where the bytes after the uid first differ, widened to the run of digits around it.
    let start = commonPrefix(e.body, e.uidEnd, body, end);
    while (start > 0 && isDigit(body[end + start - 1])) start--;
    let oldEnd = e.uidEnd + start;
    let newEnd = end + start;
    while (isDigit(e.body[oldEnd])) oldEnd++;
    while (isDigit(body[newEnd])) newEnd++;
    const oldDigits = oldEnd - (e.uidEnd + start);
    const newDigits = newEnd - (end + start);
    if (oldDigits === 0 || newDigits === 0 || newDigits > 15) return undefined;
    // A whole integer as JSON writes it: no leading zero (not JSON), no fraction or exponent after.
    if ((newDigits > 1 && body[end + start] === ZERO) || (body[newEnd] !== 0x2c /* , */ && body[newEnd] !== 0x7d) /* } */) return undefined;
    // Everything after the number must be the same bytes.
    if (e.body.length - oldEnd !== body.length - newEnd || body.compare(e.body, oldEnd, e.body.length, newEnd, body.length) !== 0)
      return undefined;
    if (Number(e.body.toString('latin1', e.uidEnd + start, oldEnd)) !== was) return undefined;
    const path = memberPathAt(body, end + start);
    // Name by name: joined, a member named "object/metadata" would pass for two.
    if (path === undefined || path.length !== GENERATION_PATH.length || path.some((name, i) => name !== GENERATION_PATH[i]))
      return undefined;
    return Number(body.toString('latin1', end + start, newEnd));
  }

  /** Keep a body and its parsed request (a v1 review as the API server encodes it; others are ignored). */
  remember(body: Buffer, request: AdmissionRequest): void {
    if (body.length > this.maxBodyBytes) return;
    const end = uidEnd(body);
    // The uid the parse found must be the bytes the memo will swap (it always is for such a body).
    if (end < 0 || body.toString('latin1', PREFIX.length, end) !== request.uid) return;
    this.entries.unshift({ body, uidEnd: end, request, at: this.now() });
    this.total += body.length;
    while (this.entries.length > this.size || this.total > this.maxTotalBytes) this.total -= this.entries.pop()!.body.length;
  }
}
