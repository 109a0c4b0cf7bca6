/** `--since` / `--until`: an RFC 3339 time or date, or a duration before now (`90m`, `24h`, `7d`, `2w`). */
const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(\d+(?:\.\d+)?)([smhdw])$/;
const RFC3339_DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The time meant, or undefined when the text is neither form (a bare date is midnight UTC). */
export function parseTimeArg(text: string, now: Date): Date | undefined {
  const t = text.trim();
  const d = DURATION.exec(t);
  if (d !== null) return new Date(now.getTime() - Number(d[1]) * UNITS[d[2]!]!);
  if (RFC3339_DATE.test(t)) {
    const date = new Date(`${t}T00:00:00Z`);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (RFC3339_TIME.test(t)) {
    const date = new Date(t);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}
