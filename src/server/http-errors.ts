/** Plain-HTTP JSON errors, for bodies that are not reviews at all (400, 413, 415, 404). */
import type { ServerResponse } from 'node:http';
import { ERRORS, type HttpErrorCode } from '../errors.js';

interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string };
}

/** The error's status comes from its row in the error table (src/errors.ts). */
export function sendHttpError(res: ServerResponse, code: HttpErrorCode, message?: string): void {
  const spec = ERRORS[code];
  const body: HttpErrorBody = { error: { code, message: message ?? spec.message } };
  sendJson(res, spec.http, JSON.stringify(body));
}

/** A JSON answer on a plain Node response (no Express needed): headers and body in one write. */
export function sendJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
