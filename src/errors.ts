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
  DG_LISTEN: 'The HTTPS port cannot be opened (in use, no permission, an address not on this machine).',
  DG_OUTPUT_EXISTS: 'A command would overwrite files it was not told to replace.',
  DG_TEST_INVALID: 'A policy test suite, or a file one of its cases names, cannot be used.',
  DG_CAPTURE: 'A captured review could not be written (the answer is unaffected).',
  DG_CLUSTER_REQUEST: 'A request to the Kubernetes API failed (unreachable, timed out, or answered an error).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The codes a command exits 1 with: a failure of the machine or of a server it talks to. Every
 * other code is a usage or input error and exits 2 (docs/cli.md), so a script can tell "denied" and
 * "failed" (1) from "called wrongly or with a bad input" (2).
 */
export const FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'DG_LISTEN',
  'DG_METRICS',
  'DG_CLUSTER_REQUEST',
  'DG_EVALUATION_FAILED',
]);

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
