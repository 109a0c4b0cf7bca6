/**
 * Coded errors (fastify lib/errors.js, undici UND_ERR_*): every failure driftguard reports has a
 * stable code, listed with its meaning in docs/errors.md. test/errors.test.ts keeps the two in step.
 */
export const ERROR_CODES = {
  DG_REVIEW_INVALID_JSON: 'The request body is not valid JSON.',
  DG_REVIEW_INVALID: 'The body is JSON but not an AdmissionReview with a request and a uid.',
  DG_REVIEW_UNSUPPORTED_VERSION: 'The AdmissionReview apiVersion is neither admission.k8s.io/v1 nor v1beta1.',
  DG_BODY_TOO_LARGE: 'The request body is larger than the 7 MiB cap.',
  DG_UNSUPPORTED_MEDIA_TYPE: 'The request Content-Type is not application/json.',
  DG_BODY_READ_FAILED: 'The request body could not be read (aborted, bad encoding).',
  DG_NOT_FOUND: 'No such endpoint.',
  DG_CLIENT_CERT: 'Mutual TLS is on and the client presented no certificate the --client-ca signed.',
  DG_EVALUATION_FAILED: 'An unexpected error inside evaluation; the review is answered with code 500.',
  DG_POLICY_PARSE: 'A policy file is not valid YAML.',
  DG_POLICY_INVALID: 'A policy document does not match the DriftPolicy schema.',
  DG_POLICY_DUPLICATE: 'Two policies share one metadata.name.',
  DG_POLICY_DIR: 'The policies path cannot be read or holds no policy files.',
  DG_TLS: 'The serving certificate or key cannot be read or generated.',
  DG_RECORDS: 'The records destination cannot be opened or written.',
  DG_USAGE: 'A command was called with arguments it cannot use.',
  DG_INPUT: 'An input file for a command cannot be read or parsed.',
  DG_METRICS: 'The plain-HTTP metrics port cannot be opened.',
  DG_OUTPUT_EXISTS: 'A command would overwrite files it was not told to replace.',
  DG_TEST_INVALID: 'A policy test suite, or a file one of its cases names, cannot be used.',
  DG_CAPTURE: 'A captured review could not be written (the answer is unaffected).',
  DG_CLUSTER_REQUEST: 'A request to the Kubernetes API failed (unreachable, timed out, or answered an error).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
