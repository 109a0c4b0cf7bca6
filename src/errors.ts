/**
 * Coded errors (fastify lib/errors.js, undici UND_ERR_*): every failure driftguard reports has a
 * stable code, and this one table says what it means, the HTTP status it is answered with (where it
 * is answered over HTTP at all) and the exit code a command ends with. docs/errors.md lists the same
 * rows; test/errors.test.ts reads this table and the doc's and fails when they differ.
 */
export interface ErrorSpec {
  message: string;
  /** The HTTP status of the plain JSON error answer; absent for errors never answered over HTTP. */
  http?: 400 | 401 | 404 | 413 | 415 | 500;
  /** The exit code of a command that ends on this error (docs/cli.md): 2 for usage or input, 1 otherwise. */
  exit: 1 | 2;
}

export const ERRORS = {
  DG_REVIEW_INVALID_JSON: { message: 'The request body is not valid JSON.', http: 400, exit: 1 },
  DG_REVIEW_INVALID: { message: 'The body is JSON but not an AdmissionReview with a request and a uid.', http: 400, exit: 1 },
  DG_REVIEW_UNSUPPORTED_VERSION: {
    message: 'The AdmissionReview apiVersion is neither admission.k8s.io/v1 nor v1beta1.',
    http: 400,
    exit: 1,
  },
  DG_BODY_TOO_LARGE: { message: 'The request body is larger than the 7 MiB cap.', http: 413, exit: 1 },
  DG_UNSUPPORTED_MEDIA_TYPE: { message: 'The request Content-Type is not application/json.', http: 415, exit: 1 },
  DG_BODY_READ_FAILED: { message: 'The request body could not be read (aborted, bad encoding).', http: 400, exit: 1 },
  DG_NOT_FOUND: { message: 'No such endpoint.', http: 404, exit: 1 },
  DG_CLIENT_CERT: { message: 'Mutual TLS is on and the client presented no certificate the --client-ca signed.', http: 401, exit: 1 },
  DG_EVALUATION_FAILED: { message: 'An unexpected error inside evaluation; the review is answered with code 500.', http: 500, exit: 1 },
  DG_INTERNAL: { message: 'An unexpected error while answering a request that is not a review.', http: 500, exit: 1 },
  DG_POLICY_PARSE: { message: 'A policy file is not valid YAML.', exit: 1 },
  DG_POLICY_INVALID: { message: 'A policy document does not match the DriftPolicy schema.', exit: 1 },
  DG_POLICY_DUPLICATE: { message: 'Two policies share one metadata.name.', exit: 1 },
  DG_POLICY_DIR: { message: 'The policies path cannot be read or holds no policy files.', exit: 1 },
  DG_TLS: { message: 'The serving certificate or key cannot be read or generated.', exit: 1 },
  DG_RECORDS: { message: 'The records destination cannot be opened or written.', exit: 1 },
  DG_USAGE: { message: 'A command was called with arguments it cannot use.', exit: 2 },
  DG_INPUT: { message: 'An input file for a command cannot be read or parsed.', exit: 2 },
  DG_METRICS: { message: 'The plain-HTTP metrics port cannot be opened.', exit: 1 },
  DG_OUTPUT_EXISTS: { message: 'A command would overwrite files it was not told to replace.', exit: 1 },
  DG_TEST_INVALID: { message: 'A policy test suite, or a file one of its cases names, cannot be used.', exit: 2 },
  DG_CAPTURE: { message: 'A captured review could not be written (the answer is unaffected).', exit: 1 },
  DG_CLUSTER_REQUEST: {
    message: 'A request to the Kubernetes API failed (unreachable, timed out, or answered an error).',
    exit: 1,
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The codes answered over HTTP: a plain JSON error names one of these, with its status from the table. */
export type HttpErrorCode = { [C in ErrorCode]: (typeof ERRORS)[C] extends { http: number } ? C : never }[ErrorCode];

export class DriftguardError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriftguardError';
    this.code = code;
    this.details = options.details;
  }
}

export function isDriftguardError(err: unknown): err is DriftguardError {
  return err instanceof DriftguardError;
}

/** A message safe to show a user for any thrown value (never JSON.stringify an Error). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
