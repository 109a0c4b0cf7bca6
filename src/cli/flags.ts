/** Checks for flag values, shared by every command: one wording for one kind of mistake. */
import { DriftguardError } from '../errors.js';
import { KeyedPathError, normalizeKeyedPath } from '../match/keyed-path.js';

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

/**
 * `--field` values: keyed paths or JSON Pointers (docs/keyed-paths.md), in canonical form, else a
 * usage error saying where the path goes wrong (with the pointer meant, for a dotted path).
 */
export function fieldPaths(values: readonly string[] | undefined, flag = '--field'): string[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => {
    if (!v.startsWith('/')) {
      const fix = `/${v.replace(/^\.+/, '').replace(/\./g, '/')}`;
      throw new DriftguardError(
        'DG_USAGE',
        `${flag} takes a path such as /spec/replicas or /spec/template/spec/containers[name=api]/image, got ${v}${v === '' ? '' : ` (did you mean ${fix}?)`}`,
      );
    }
    try {
      return normalizeKeyedPath(v);
    } catch (err) {
      if (err instanceof KeyedPathError) throw new DriftguardError('DG_USAGE', `${flag} ${v}: ${err.message}`);
      throw err;
    }
  });
}

/** `--field` values checked as every command takes them (keyed paths or JSON Pointers); a usage error otherwise. */
export function jsonPointers(values: readonly string[], flag: string): string[] {
  return fieldPaths(values, flag) ?? [];
}
