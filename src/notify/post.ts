/** One JSON POST with a hard timeout, no redirects; the answer's status and Retry-After. */
import { retryAfterMs } from '../signal/backoff.js';

interface PostResult {
  status: number;
  retryAfterMs?: number;
}

export type PostJson = (url: string, body: unknown, opts: { timeoutMs: number; signal: AbortSignal; now: Date }) => Promise<PostResult>;

export const postJson: PostJson = async (url, body, opts) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'driftguard' },
    body: JSON.stringify(body),
    redirect: 'error',
    signal: AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), opts.signal]),
  });
  // The body is not needed; cancel it so the connection is released.
  await res.body?.cancel().catch(() => undefined);
  const after = retryAfterMs(res.headers.get('retry-after'), opts.now);
  return after === undefined ? { status: res.status } : { status: res.status, retryAfterMs: after };
};

/** A URL as it may be logged: origin only (a Slack webhook's path is its secret). */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
