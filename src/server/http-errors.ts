/** Plain-HTTP JSON errors, for bodies that are not reviews at all (400, 413, 415, 404). */
import type { Response } from 'express';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

export interface HttpErrorBody {
  error: { code: ErrorCode; message: string };
}

export function sendHttpError(res: Response, status: number, code: ErrorCode, message?: string): void {
  const body: HttpErrorBody = { error: { code, message: message ?? ERROR_CODES[code] } };
  res.status(status).type('application/json').send(JSON.stringify(body));
}
