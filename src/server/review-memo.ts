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

function isUidByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
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
    return undefined;
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
