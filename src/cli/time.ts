/**
 * Times on the command line, one grammar for every command (--since, --until): a duration back
 * from now (45s, 90m, 1h30m, 7d, 2w), a date (2026-11-24, midnight UTC), or an RFC 3339 time.
 */
import { DriftguardError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RFC3339_DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A Go-style duration (kubectl logs --since), plus weeks: 45s, 90m, 1h30m, 2d, 2w; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** The time meant, or undefined when the text is none of the forms. */
export function parseTimeArg(text: string, now: Date): Date | undefined {
  const t = text.trim();
  const d = parseDuration(t);
  if (d !== undefined) return new Date(now.getTime() - d);
  const iso = RFC3339_DATE.test(t) ? `${t}T00:00:00Z` : RFC3339_TIME.test(t) ? t : undefined;
  if (iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `value` as a point in time, or a usage error naming the forms. */
export function parseTimeFlag(value: string, flag: string, now: Date): Date {
  const t = parseTimeArg(value, now);
  if (t === undefined)
    throw new DriftguardError(
      'DG_USAGE',
      `${flag} must be a duration (90m, 1h30m, 7d), a date (2026-11-24) or an RFC 3339 time, got ${value}`,
    );
  return t;
}

/** kubectl's HumanDuration: 45s, 5m30s, 20m, 3h10m, 5d, 2y. */
export function humanDuration(ms: number): string {
  const s = Math.round(Math.max(0, ms) / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

/** RFC 3339 to the second, as kubectl prints times. */
export function shortTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
