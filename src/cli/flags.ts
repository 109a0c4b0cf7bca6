/** Checks for flag values, shared by every command: one wording for one kind of mistake. */
import { DriftguardError } from '../errors.js';

/** "a", "a or b", "a, b or c". */
function choices(allowed: readonly string[]): string {
  return allowed.length <= 1 ? (allowed[0] ?? '') : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)!}`;
}

/** `value` when it is one of `allowed`, else a usage error naming the choices. */
export function oneOf<T extends string>(flag: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new DriftguardError('DG_USAGE', `${flag} must be ${choices(allowed)}, got ${String(value)}`);
}

/** A whole number from `min` to `max`, else a usage error. */
export function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new DriftguardError('DG_USAGE', `${flag} must be a whole number from ${min} to ${max}, got ${value}`);
  return n;
}

/** JSON Pointers (`/spec/replicas`), as `--field` takes them in every command; a usage error otherwise. */
export function jsonPointers(values: readonly string[], flag: string): string[] {
  for (const v of values) {
    if (!v.startsWith('/')) {
      const fix = `/${v.replace(/^\.+/, '').replace(/\./g, '/')}`;
      throw new DriftguardError(
        'DG_USAGE',
        `${flag} takes a JSON Pointer such as /spec/replicas, got ${v}${v === '' ? '' : ` (did you mean ${fix}?)`}`,
      );
    }
  }
  return [...values];
}
