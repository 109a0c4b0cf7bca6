/**
 * The one HTTP adapter: HTTP <-> AdmissionReview. Everything about deciding lives in admission/.
 *
 * Input handling is bounded and explicit: 415 for a body that is not JSON, 413 above
 * the cap, 400 for bad JSON or a body that is not a review, and the uid echoed whenever there is one,
 * even when the handler fails.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { parseReview } from '../admission/review.js';
import { errored, review } from '../admission/response.js';
import { ADMISSION_V1, type AdmissionApiVersion, type AdmissionRequest, type AdmissionResponse } from '../k8s/admission.js';
import { errorMessage, type HttpErrorCode } from '../errors.js';
import { sendHttpError, sendJson } from './http-errors.js';
import type { ReviewMemo } from './review-memo.js';
import { TurnBatch } from './turn-batch.js';

/**
 * The API server accepts request bodies up to 3 MiB, and a review carries object and oldObject, so a
 * legitimate review approaches 6 MiB plus the envelope. controller-runtime caps webhook bodies at
 * 7 MiB and answers 413 above; so do we.
 */
export const MAX_BODY_BYTES = 7 * 1024 * 1024;

/** How much of an over-limit body is read and dropped, and for how long, before the 413 is sent anyway. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
export const DRAIN_MAX_MS = 5_000;

/** Reviews judged together after one turn of the event loop, at most (turn-batch.ts). */
const BATCH_MAX_REVIEWS = 32;
/** A body larger than this is judged as soon as it is read, not batched: a batch holds small parses only. */
export const BATCH_MAX_BODY_BYTES = 64 * 1024;

type ReviewHandler = (request: AdmissionRequest) => Promise<AdmissionResponse>;

export interface AppOptions {
  logger: Logger;
  /** POST path -> handler. /validate for the validating webhook; /observe/* for the observers. */
  reviewRoutes: Record<string, ReviewHandler>;
  /** Readiness: false while starting and once shutdown has begun. */
  ready: () => boolean;
  /** Lines added to /readyz's body while ready (e.g. policy coverage gaps): reported, never a reason to be unready. */
  readyWarnings?: () => readonly string[];
  /** Answer for a malformed request, per route: the validator answers 400, an observer allows. */
  onMalformed?: Record<string, (uid: string, message: string) => AdmissionResponse>;
  /** GET /metrics: the exposition text and its content type (prom-client's registry). */
  metrics?: () => Promise<{ contentType: string; text: string }>;
  /**
   * Time every request: called when it arrives; the returned function is called once the answer has
   * been sent, with the route (a review route, an Express route's path, or "unmatched" — never the
   * raw URL, so a scanner cannot grow a label set) and the status.
   */
  timeRequest?: () => (route: string, statusCode: number) => void;
  /**
   * Who may send reviews (mutual TLS): a refusal answers 401 before the body is read. Probes and
   * extra routes are not gated: the kubelet and Prometheus present no client certificate.
   */
  authorize?: (req: IncomingMessage) => { code: HttpErrorCode; message: string } | undefined;
  /**
   * One parse for the calls of one write (review-memo.ts), shared by every review route: a body
   * equal to a kept one but for its uid is answered from that parse. Only the bodies of the
   * `remember` routes are kept: those whose bytes the API server sends again for the same write
   * (the entry observer's come back at exit, and at the validating call with the generation
   * perhaps bumped). A validating call's body is never sent again, so keeping it would only hold
   * its parse alive through the next scavenges (docs/performance.md).
   */
  memo?: { cache: ReviewMemo; remember: readonly string[] };
}

function sendReview(res: ServerResponse, status: number, apiVersion: AdmissionApiVersion, response: AdmissionResponse): void {
  sendJson(res, status, JSON.stringify(review(apiVersion, response)));
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The media type of a Content-Type header, lower case, without parameters. */
function mediaType(header: string | undefined): string {
  if (header === undefined) return '';
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/**
 * One review route on plain Node request and response objects: the checks, the bounded body read,
 * the parse and the answer. Express is not on this path (see Adapter.listener for why).
 */
function reviewEndpoint(opts: AppOptions, path: string, handler: ReviewHandler, batch: TurnBatch): Listener {
  const { logger } = opts;
  const memo = opts.memo?.cache;
  const remember = opts.memo?.remember.includes(path) === true;
  const malformed =
    opts.onMalformed?.[path] ?? ((uid: string, message: string) => errored(uid, 400, `malformed AdmissionReview: ${message}`));

  const answer = async (res: ServerResponse, apiVersion: AdmissionApiVersion, request: AdmissionRequest): Promise<void> => {
    try {
      sendReview(res, 200, apiVersion, await handler(request));
    } catch (err) {
      // Never let one request take the process down; the uid still goes back (docs/kubernetes.md, AdmissionReview).
      logger.error({ err, uid: request.uid, path }, 'review handler failed');
      sendReview(res, 500, apiVersion, errored(request.uid, 500, `driftguard internal error: ${errorMessage(err)}`));
    }
  };

  const judge = async (res: ServerResponse, body: Buffer): Promise<void> => {
    if (body.length === 0) {
      sendHttpError(res, 'DG_REVIEW_INVALID_JSON', 'empty body: expected an AdmissionReview');
      return;
    }
    // Another call of the same write, parsed a moment ago: only its uid differs (a v1 review).
    const reused = memo?.reuse(body);
    if (reused !== undefined) return answer(res, ADMISSION_V1, reused);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (err) {
      sendHttpError(res, 'DG_REVIEW_INVALID_JSON', `body is not valid JSON: ${errorMessage(err)}`);
      return;
    }
    const parsed = parseReview(json);
    if (!parsed.ok) {
      if (parsed.kind === 'invalid') sendHttpError(res, parsed.code, parsed.message);
      else sendReview(res, 200, parsed.apiVersion, malformed(parsed.uid, parsed.message));
      return;
    }
    if (remember) memo?.remember(body, parsed.request);
    return answer(res, parsed.apiVersion, parsed.request);
  };

  return (req, res) => {
    if (refused(opts, req, res)) return;
    readBody(req, res, (body) => {
      const run = (): void => {
        judge(res, body).catch((err: unknown) => {
          // Only answering itself can fail here (the handler's failures are caught in judge); an
          // unhandled rejection would end the process.
          logger.error({ err, path }, 'could not answer a review');
          if (!res.headersSent) sendHttpError(res, 'DG_INTERNAL', 'internal error');
          else res.destroy();
        });
      };
      if (body.length > BATCH_MAX_BODY_BYTES) run();
      else batch.add(run);
    });
  };
}

/** Answered before its body is read: a client the route refuses, a body that is not uncompressed JSON. True when answered. */
function refused(opts: AppOptions, req: IncomingMessage, res: ServerResponse): boolean {
  const refusal = opts.authorize?.(req);
  if (refusal !== undefined) {
    sendHttpError(res, refusal.code, refusal.message);
    return true;
  }
  // The API server always sends application/json, uncompressed; anything else is not a review.
  const type = mediaType(req.headers['content-type']);
  if (type !== 'application/json') {
    sendHttpError(res, 'DG_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${req.headers['content-type'] ?? 'none'}`);
    return true;
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') {
    sendHttpError(res, 'DG_UNSUPPORTED_MEDIA_TYPE', `unsupported content encoding "${encoding}"`);
    return true;
  }
  return false;
}

/**
 * Read a request's whole body and hand it to `onBody`; a body over MAX_BODY_BYTES, a read error
 * or an aborted body is answered here. A body over the cap is read to its end and dropped before
 * the 413 goes out: a client that writes its whole body before it reads (Python's http.client,
 * many proxies) would otherwise have its connection closed under it and see a reset, not the
 * answer. The drain is bounded in bytes and time; past either, the 413 is sent and the connection closed.
 */
function readBody(req: IncomingMessage, res: ServerResponse, onBody: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  let drained = 0;
  let drainTimer: NodeJS.Timeout | undefined;
  const tooLarge = (): void => {
    clearTimeout(drainTimer);
    if (res.headersSent || res.destroyed) return;
    res.setHeader('connection', 'close');
    sendHttpError(res, 'DG_BODY_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
  };
  const startDrain = (): void => {
    over = true;
    chunks.length = 0;
    drainTimer = setTimeout(tooLarge, DRAIN_MAX_MS);
    drainTimer.unref();
  };
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) startDrain();
  req.on('data', (chunk: Buffer) => {
    if (over) {
      drained += chunk.length;
      if (drained > DRAIN_MAX_BYTES) tooLarge();
      return;
    }
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      startDrain();
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', (err) => {
    if (!res.headersSent && !res.destroyed) sendHttpError(res, 'DG_BODY_READ_FAILED', `body could not be read: ${err.message}`);
  });
  req.on('end', () => {
    if (over) {
      tooLarge();
      return;
    }
    if (!req.complete) {
      if (!res.headersSent) sendHttpError(res, 'DG_BODY_READ_FAILED', 'the client aborted the body');
      return;
    }
    onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
}

export interface Adapter {
  /** The Express app: probes, GET /metrics and the 404. */
  app: express.Express;
  /**
   * The server's request listener. A POST to a review route goes straight to its endpoint, all else
   * to the Express app (the project's framework, kept for everything but reviews). Reviews skip
   * Express because its dispatch (router, prototype swaps, body-parser) cost more per review than
   * the whole engine (docs/performance.md); each review route is registered once, here.
   */
  listener: Listener;
}

/** The route label of a request Express answered: the matched route's path, or "unmatched". */
function expressRoute(req: IncomingMessage): string {
  const route = ((req as Request).route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? route : 'unmatched';
}

export function createAdapter(opts: AppOptions): Adapter {
  const { logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);

  // The probes answer with the project's helper, not res.send(): Express's sends look the type up in
  // mime-types, which the bundle loads on first use only (scripts/bundle.mjs).
  app.get('/healthz', (_req, res) => {
    sendJson(res, 200, '{"status":"ok"}');
  });
  app.get('/readyz', (_req, res) => {
    const ready = opts.ready();
    const warnings = ready ? (opts.readyWarnings?.() ?? []) : [];
    sendJson(
      res,
      ready ? 200 : 503,
      !ready ? '{"status":"not ready"}' : warnings.length === 0 ? '{"status":"ready"}' : JSON.stringify({ status: 'ready', warnings }),
    );
  });
  const metrics = opts.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (_req, res) => {
      const m = await metrics();
      res.type(m.contentType).send(m.text);
    });
  }

  app.use((_req: Request, res: Response) => sendHttpError(res, 'DG_NOT_FOUND'));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    logger.error({ err }, 'unexpected error in the HTTP layer');
    sendHttpError(res, 'DG_INTERNAL', 'internal error');
  });

  const batch = new TurnBatch(BATCH_MAX_REVIEWS, (err) => logger.error({ err }, 'a batched review could not be started'));
  const endpoints = new Map<string, Listener>();
  for (const [path, handler] of Object.entries(opts.reviewRoutes)) endpoints.set(path, reviewEndpoint(opts, path, handler, batch));

  const listener: Listener = (req, res) => {
    const done = opts.timeRequest?.();
    if (req.method === 'POST') {
      // The API server posts to <path>?timeout=<timeoutSeconds>s: match the path without the query.
      const url = req.url ?? '';
      const query = url.indexOf('?');
      const route = query < 0 ? url : url.slice(0, query);
      const endpoint = endpoints.get(route);
      if (endpoint !== undefined) {
        if (done !== undefined) res.once('finish', () => done(route, res.statusCode));
        endpoint(req, res);
        return;
      }
    }
    if (done !== undefined) res.once('finish', () => done(expressRoute(req), res.statusCode));
    app(req, res);
  };
  return { app, listener };
}
