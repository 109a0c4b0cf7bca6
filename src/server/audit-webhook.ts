/**
 * `serve --audit-webhook`: the API server's audit webhook backend (`--audit-webhook-config-file`)
 * posts batches of audit events (an `audit.k8s.io/v1` EventList) here, on a port of its own. A
 * batch is checked (size, JSON, shape, the client's certificate or bearer token), its events are
 * queued, and the answer is sent at once: turning events into change records (auditlog/convert.ts)
 * and appending them to the records sink happens off the request, in order. The queue is bounded:
 * a batch that does not fit is refused with 429 and Retry-After, and the API server's batch
 * backend sends it again after its backoff (docs/audit-log.md, "Live"), so a slow disk costs
 * retries, never lost events nor an unbounded heap. HTTPS always; mutual TLS (the handshake
 * refuses a client without a certificate the CA signed) or a bearer token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { AuditConverter, type Converted } from '../auditlog/convert.js';
import { checkAuditEvent, type AuditEvent } from '../auditlog/event.js';
import { DriftguardError, systemErrorText } from '../errors.js';
import { BoundedQueue } from '../queue/bounded-queue.js';
import type { RecordSink } from '../records/sink.js';

/** A batch larger than this is refused (413): the API server's default batch is 400 events. */
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const DEFAULT_AUDIT_QUEUE = 50_000;

type AuditBatchOutcome = 'accepted' | 'full' | 'unauthorized' | 'invalid' | 'too_large';

export interface AuditWebhookMeter {
  batch(outcome: AuditBatchOutcome): void;
  events(outcome: Converted['kind'], n: number): void;
}

export interface AuditWebhookOptions {
  host: string;
  port: number;
  path: string;
  cert: string | Buffer;
  key: string | Buffer;
  /** Mutual TLS: only clients with a certificate this CA signed. */
  clientCa?: string | Buffer;
  /** Bearer token the API server sends (the kubeconfig's user token). */
  token?: string;
  records: RecordSink;
  converter: AuditConverter;
  logger: Logger;
  /** Events queued at most. */
  capacity?: number;
  meter?: AuditWebhookMeter;
}

export interface AuditWebhook {
  url: string;
  port: number;
  /** Events waiting to be turned into records. */
  queued(): number;
  /** Stop taking batches; turn what is queued into records within `graceMs`. */
  close(graceMs: number): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function answer(res: ServerResponse, code: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      resolve('too_large');
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        resolve('too_large');
        return;
      }
      parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts, size)));
    req.on('error', reject);
  });
}

export async function startAuditWebhook(o: AuditWebhookOptions): Promise<AuditWebhook> {
  const capacity = o.capacity ?? DEFAULT_AUDIT_QUEUE;
  const expected = o.token === undefined ? undefined : digest(o.token);
  const queue = new BoundedQueue<AuditEvent>({
    capacity,
    batch: { size: 1_000, waitMs: 0 },
    handle: (events) => {
      const counts = { change: 0, skip: 0, problem: 0 };
      for (const e of events) {
        const out = o.converter.convert(e);
        counts[out.kind]++;
        if (out.kind === 'change') o.records.write(out.record);
        else if (out.kind === 'problem')
          o.logger.warn({ auditID: e.auditID, problem: out.problem }, 'audit event not turned into a record');
      }
      for (const k of ['change', 'skip', 'problem'] as const) if (counts[k] > 0) o.meter?.events(k, counts[k]);
    },
    onError: (err) => o.logger.error({ err: { message: (err as Error).message } }, 'audit events could not be recorded'),
  });

  const authorized = (req: IncomingMessage): boolean => {
    if (expected === undefined) return true;
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h.startsWith('Bearer ')) return false;
    return timingSafeEqual(digest(h.slice(7).trim()), expected);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || url !== o.path) return answer(res, 404, { code: 'DG_NOT_FOUND', message: `POST ${o.path} only` });
    if (!authorized(req)) {
      o.meter?.batch('unauthorized');
      req.resume();
      return answer(res, 401, { code: 'DG_AUDIT_UNAUTHORIZED', message: 'no or wrong bearer token' });
    }
    const body = await readBody(req, MAX_BATCH_BYTES);
    if (body === 'too_large') {
      o.meter?.batch('too_large');
      return answer(res, 413, { code: 'DG_BODY_TOO_LARGE', message: `an audit batch is at most ${MAX_BATCH_BYTES} bytes` });
    }
    let list: unknown;
    try {
      list = JSON.parse(body.toString('utf8'));
    } catch {
      o.meter?.batch('invalid');
      return answer(res, 400, { code: 'DG_AUDIT_BATCH_INVALID', message: 'the body is not JSON' });
    }
    const items = (list as { kind?: unknown; items?: unknown } | null)?.items;
    if ((list as { kind?: unknown } | null)?.kind !== 'EventList' || !Array.isArray(items)) {
      o.meter?.batch('invalid');
      return answer(res, 400, { code: 'DG_AUDIT_BATCH_INVALID', message: 'expected an audit.k8s.io/v1 EventList' });
    }
    const events: AuditEvent[] = [];
    const listVersion = (list as { apiVersion?: unknown }).apiVersion;
    for (const item of items) {
      // The items of an EventList carry no kind or apiVersion of their own (the API server encodes
      // them as the list's, k8s.io/apiserver pkg/apis/audit/v1 EventList): they are the list's.
      // Set on the item just parsed (no copy of each event).
      if (typeof item === 'object' && item !== null && !Array.isArray(item) && (item as { kind?: unknown }).kind === undefined) {
        (item as Record<string, unknown>).kind = 'Event';
        (item as Record<string, unknown>).apiVersion = listVersion;
      }
      const checked = checkAuditEvent(item);
      if (checked.ok) events.push(checked.event);
      else o.logger.warn({ problem: checked.problem }, 'audit batch item is no audit.k8s.io/v1 Event');
    }
    if (events.length < items.length) o.meter?.events('problem', items.length - events.length);
    // All of the batch or none of it: the API server sends a refused batch again whole.
    if (queue.pending + events.length > capacity) {
      o.meter?.batch('full');
      return answer(res, 429, { code: 'DG_AUDIT_QUEUE_FULL', message: 'audit queue full; send again later' }, { 'retry-after': '1' });
    }
    for (const e of events) queue.push(e);
    o.meter?.batch('accepted');
    answer(res, 200, {});
  };

  const server = https.createServer(
    {
      cert: o.cert,
      key: o.key,
      minVersion: 'TLSv1.2',
      ...(o.clientCa === undefined ? {} : { ca: o.clientCa, requestCert: true, rejectUnauthorized: true }),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        o.logger.error({ err: { message: (err as Error).message } }, 'audit batch failed');
        if (!res.headersSent) answer(res, 500, { code: 'DG_INTERNAL', message: 'audit batch failed' });
      });
    },
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new DriftguardError('DG_LISTEN', `cannot listen on ${o.host}:${o.port} for audit events: ${systemErrorText(err)}`, { cause: err }),
      ),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  return {
    url: `https://${host}:${port}${o.path}`,
    port,
    queued: () => queue.pending,
    async close(graceMs) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await queue.close(graceMs);
    },
  };
}
