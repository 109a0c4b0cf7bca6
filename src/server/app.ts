/**
 * The one HTTP adapter: HTTP <-> AdmissionReview. Everything about deciding lives in admission/.
 *
 * Input handling is bounded and explicit (style.md 3): 415 for a body that is not JSON, 413 above
 * the cap, 400 for bad JSON or a body that is not a review, and the uid echoed whenever there is one,
 * even when the handler fails.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { parseReview } from '../admission/review.js';
import { errored, review } from '../admission/response.js';
import type { AdmissionApiVersion, AdmissionRequest, AdmissionResponse } from '../admission/types.js';
import { errorMessage, type ErrorCode } from '../errors.js';
import { sendHttpError } from './http-errors.js';

/**
 * The API server accepts request bodies up to 3 MiB, and a review carries object and oldObject, so a
 * legitimate review approaches 6 MiB plus the envelope. controller-runtime caps webhook bodies at
 * 7 MiB and answers 413 above; so do we.
 */
export const MAX_BODY_BYTES = 7 * 1024 * 1024;

export type ReviewHandler = (request: AdmissionRequest) => Promise<AdmissionResponse>;

export interface AppOptions {
  logger: Logger;
  /** POST path -> handler. /validate for the validating webhook; /observe/* for the observers. */
  reviewRoutes: Record<string, ReviewHandler>;
  /** Readiness: false while starting and once shutdown has begun. */
  ready: () => boolean;
  /** Answer for a malformed request, per route: the validator answers 400, an observer allows. */
  onMalformed?: Record<string, (uid: string, message: string) => AdmissionResponse>;
  /** Extra routes (metrics) mounted before the 404 handler. */
  extend?: (app: express.Express) => void;
  /**
   * Who may send reviews (mutual TLS): a refusal answers 401 before the body is read. Probes and
   * extra routes are not gated: the kubelet and Prometheus present no client certificate.
   */
  authorize?: (req: Request) => { code: ErrorCode; message: string } | undefined;
}

function sendReview(res: Response, status: number, apiVersion: AdmissionApiVersion, response: AdmissionResponse): void {
  res.status(status).type('application/json').send(JSON.stringify(review(apiVersion, response)));
}

export function createApp(opts: AppOptions): express.Express {
  const { logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);

  app.get('/healthz', (_req, res) => {
    res.type('application/json').send('{"status":"ok"}');
  });
  app.get('/readyz', (_req, res) => {
    const ready = opts.ready();
    res.status(ready ? 200 : 503).type('application/json').send(ready ? '{"status":"ready"}' : '{"status":"not ready"}');
  });
  opts.extend?.(app);

  const requireJson = (req: Request, res: Response, next: NextFunction): void => {
    // The API server always sends application/json; anything else is not a review.
    if (req.is('application/json') !== 'application/json') {
      sendHttpError(res, 415, 'DG_UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${req.get('content-type') ?? 'none'}`);
      return;
    }
    next();
  };
  const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: false });
  const authorize = (req: Request, res: Response, next: NextFunction): void => {
    const refused = opts.authorize?.(req);
    if (refused !== undefined) {
      sendHttpError(res, 401, refused.code, refused.message);
      return;
    }
    next();
  };

  for (const [path, handler] of Object.entries(opts.reviewRoutes)) {
    const malformed = opts.onMalformed?.[path] ?? ((uid: string, message: string) => errored(uid, 400, `malformed AdmissionReview: ${message}`));
    app.post(path, authorize, requireJson, rawBody, async (req: Request, res: Response) => {
      const body = req.body as unknown;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        sendHttpError(res, 400, 'DG_REVIEW_INVALID_JSON', 'empty body: expected an AdmissionReview');
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch (err) {
        sendHttpError(res, 400, 'DG_REVIEW_INVALID_JSON', `body is not valid JSON: ${errorMessage(err)}`);
        return;
      }
      const parsed = parseReview(json);
      if (!parsed.ok) {
        if (parsed.kind === 'invalid') sendHttpError(res, 400, parsed.code, parsed.message);
        else sendReview(res, 200, parsed.apiVersion, malformed(parsed.uid, parsed.message));
        return;
      }
      try {
        sendReview(res, 200, parsed.apiVersion, await handler(parsed.request));
      } catch (err) {
        // Never let one request take the process down; the uid still goes back (style.md 3).
        logger.error({ err, uid: parsed.request.uid, path }, 'review handler failed');
        sendReview(res, 500, parsed.apiVersion, errored(parsed.request.uid, 500, `driftguard internal error: ${errorMessage(err)}`));
      }
    });
  }

  app.use((_req: Request, res: Response) => sendHttpError(res, 404, 'DG_NOT_FOUND'));

  // body-parser errors: too large, aborted, bad encoding. Express 5 passes them here.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (res.headersSent) return;
    if (e.type === 'entity.too.large') sendHttpError(res, 413, 'DG_BODY_TOO_LARGE', `body larger than ${MAX_BODY_BYTES} bytes`);
    else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') sendHttpError(res, 415, 'DG_UNSUPPORTED_MEDIA_TYPE', e.message);
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) sendHttpError(res, e.status, 'DG_BODY_READ_FAILED', e.message);
    else {
      logger.error({ err }, 'unexpected error in the HTTP layer');
      sendHttpError(res, 500, 'DG_EVALUATION_FAILED', 'internal error');
    }
  });
  return app;
}
