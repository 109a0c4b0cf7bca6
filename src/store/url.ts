/**
 * Where the records store is: a PostgreSQL URL (`postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=/ca.crt`,
 * TLS options named as libpq names them) from a flag, from an environment variable, or from a file
 * (a mounted Secret). The URL holds a password: only its redacted form is ever logged or printed.
 */
import { readFileSync } from 'node:fs';
import { DriftguardError, systemErrorText } from '../errors.js';

/** The environment variable `serve`, `store` and the readers take the URL from when no flag names one. */
export const STORE_URL_ENV = 'DRIFTGUARD_STORE_URL';

export interface StoreUrlSources {
  /** `--store URL`. */
  flag?: string;
  /** `--store-url-file FILE`: the URL is the file's content, trimmed (a Secret mounted as a file). */
  file?: string;
  /** The value of DRIFTGUARD_STORE_URL, passed in by the command. */
  env?: string;
}

/** The store URL, from the flag, else the file, else the environment; undefined when none names one. */
export function resolveStoreUrl(s: StoreUrlSources): string | undefined {
  if (s.flag !== undefined && s.file !== undefined) throw new DriftguardError('DG_USAGE', 'give --store or --store-url-file, not both');
  let url = s.flag;
  if (url === undefined && s.file !== undefined) {
    try {
      url = readFileSync(s.file, 'utf8').trim();
    } catch (err) {
      throw new DriftguardError('DG_USAGE', `cannot read the store URL from ${s.file}: ${systemErrorText(err)}`, { cause: err });
    }
    if (url === '') throw new DriftguardError('DG_USAGE', `${s.file} is empty: it should hold a postgres:// URL`);
  }
  if (url === undefined && s.env !== undefined && s.env !== '') url = s.env.trim();
  if (url === undefined) return undefined;
  checkStoreUrl(url);
  return url;
}

/** A usage error for anything but a postgres:// or postgresql:// URL with a host. */
function checkStoreUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DriftguardError('DG_USAGE', 'the store URL is not a URL: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DriftguardError('DG_USAGE', `the store URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new DriftguardError('DG_USAGE', 'the store URL names no host: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE');
  }
}

/** The URL with its password replaced by `***`, for logs, errors and `stats.files`. */
export function redactStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (k.toLowerCase() === 'password') u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
