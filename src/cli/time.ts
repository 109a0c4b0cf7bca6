/** Times on the command line: --since/--until as a duration back from now (90m, 1h30m, 2d) or an RFC 3339 time. */
import { DriftguardError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A Go-style duration (kubectl logs --since): 45s, 90m, 1h30m, 2d; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

/** `value` as a point in time: now minus a duration, or an RFC 3339 time. */
export function parseTimeFlag(value: string, flag: string, now: Date): Date {
  const d = parseDuration(value);
  if (d !== undefined) return new Date(now.getTime() - d);
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new DriftguardError('DG_USAGE', `${flag} must be a duration (90m, 1h30m, 2d) or an RFC 3339 time, got ${value}`);
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
