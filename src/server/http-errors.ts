/** Plain-HTTP JSON errors, for bodies that are not reviews at all (400, 413, 415, 404). */
import type { ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

export function sendHttpError(res: ServerResponse, status: number, code: ErrorCode, message?: string): void {
  const body: HttpErrorBody = { error: { code, message: message ?? ERROR_CODES[code] } };
  sendJson(res, status, JSON.stringify(body));
}

/** A JSON answer on a plain Node response (no Express needed): headers and body in one write. */
export function sendJson(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
