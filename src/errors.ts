/**
 * Coded errors (fastify lib/errors.js, undici UND_ERR_*): every failure driftguard reports has a
 * stable code, and this one table says what it means, the HTTP status it is answered with (where it
 * is answered over HTTP at all) and the exit code a command ends with. docs/errors.md lists the same
 * rows; test/errors.test.ts reads this table and the doc's and fails when they differ.
 */
export interface ErrorSpec {
  message: string;
  /** The HTTP status of the plain JSON error answer; absent for errors never answered over HTTP. */
  http?: 400 | 401 | 404 | 413 | 415 | 429 | 500;
  /**
   * The exit code of a command that ends on this error (docs/cli.md): 1 for a failure of the machine
   * or of a server it talks to, 2 for every usage or input error, so a script can tell "denied" and
   * "failed" (1) from "called wrongly or with a bad input" (2).
   */
  exit: 1 | 2;
}

export const ERRORS = {
  DG_REVIEW_INVALID_JSON: { message: 'The request body is not valid JSON.', http: 400, exit: 2 },
  DG_REVIEW_INVALID: { message: 'The body is JSON but not an AdmissionReview with a request and a uid.', http: 400, exit: 2 },
  DG_REVIEW_UNSUPPORTED_VERSION: {
    message: 'The AdmissionReview apiVersion is neither admission.k8s.io/v1 nor v1beta1.',
    http: 400,
    exit: 2,
  },
  DG_BODY_TOO_LARGE: { message: 'The request body is larger than the 7 MiB cap.', http: 413, exit: 2 },
  DG_UNSUPPORTED_MEDIA_TYPE: { message: 'The request Content-Type is not application/json.', http: 415, exit: 2 },
  DG_BODY_READ_FAILED: { message: 'The request body could not be read (aborted, bad encoding).', http: 400, exit: 2 },
  DG_NOT_FOUND: { message: 'No such endpoint.', http: 404, exit: 2 },
  DG_CLIENT_CERT: { message: 'Mutual TLS is on and the client presented no certificate the --client-ca signed.', http: 401, exit: 2 },
  DG_EVALUATION_FAILED: { message: 'An unexpected error inside evaluation; the review is answered with code 500.', http: 500, exit: 1 },
  DG_INTERNAL: { message: 'An unexpected error while answering a request that is not a review.', http: 500, exit: 1 },
  DG_POLICY_PARSE: { message: 'A policy file is not valid YAML.', exit: 2 },
  DG_POLICY_INVALID: { message: 'A policy document does not match the DriftPolicy schema.', exit: 2 },
  DG_POLICY_DUPLICATE: { message: 'Two policies share one metadata.name.', exit: 2 },
  DG_POLICY_DIR: { message: 'The policies path cannot be read or holds no policy files.', exit: 2 },
  DG_TLS: { message: 'The serving certificate or key cannot be read or generated.', exit: 2 },
  DG_RECORDS: { message: 'The records destination cannot be opened or written.', exit: 2 },
  DG_STORE: {
    message: 'The PostgreSQL records store cannot be reached or used (refused password, unreachable host, a role that may not write).',
    exit: 2,
  },
  DG_STORE_SCHEMA: { message: 'The records store is at another schema version than this driftguard (not migrated, or newer).', exit: 2 },
  DG_USAGE: { message: 'A command was called with arguments it cannot use.', exit: 2 },
  DG_INPUT: { message: 'An input file for a command cannot be read or parsed.', exit: 2 },
  DG_METRICS: { message: 'The plain-HTTP metrics port cannot be opened.', exit: 1 },
  DG_LISTEN: { message: 'The HTTPS port cannot be opened (in use, no permission, an address not on this machine).', exit: 1 },
  DG_OUTPUT_EXISTS: { message: 'A command would overwrite files it was not told to replace.', exit: 2 },
  DG_TEST_INVALID: { message: 'A policy test suite, or a file one of its cases names, cannot be used.', exit: 2 },
  DG_CAPTURE: { message: 'A captured review could not be written (the answer is unaffected).', exit: 2 },
  DG_AUDIT_UNAUTHORIZED: {
    message: 'An audit batch came without the bearer token serve --audit-webhook-token-file names.',
    http: 401,
    exit: 2,
  },
  DG_AUDIT_BATCH_INVALID: { message: 'An audit batch is not JSON or not an audit.k8s.io/v1 EventList.', http: 400, exit: 2 },
  DG_AUDIT_QUEUE_FULL: {
    message: 'The audit event queue is full: the batch is refused, and the API server sends it again.',
    http: 429,
    exit: 1,
  },
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

/** Words for the system errors a user meets, in place of bare errno names such as ENOENT. */
const SYSTEM_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'a file is in the way',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not one of this machine',
  EINVAL: 'invalid argument',
  /** Not the kernel's: files.ts, for a mkdir the file system refuses with ENOENT. */
  ENOMKDIR: 'this file system does not let a directory be created',
  /** Not the kernel's: files.ts, for a FIFO or socket where a file is wanted. */
  ENOTREG: 'not a regular file (a FIFO or socket)',
};

/** Codes where the path the call failed on may be another than the one the caller names (mkdir -p). */
const NAMES_ITS_PATH = new Set(['EEXIST', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'ENOMKDIR']);

/**
 * Why a file-system or socket call failed, in words (`no such file or directory`), and for the codes
 * where it may differ from the path the caller shows, the path it failed on.
 */
export function systemErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words = typeof e?.code === 'string' ? SYSTEM_ERRORS[e.code] : undefined;
  if (words === undefined) return errorMessage(err);
  return e.path !== undefined && NAMES_ITS_PATH.has(e.code!) ? `${words}: ${e.path}` : words;
}
