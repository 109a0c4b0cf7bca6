/**
 * Values in records are cut at 256 characters. Small values stay structured (explain can show them
 * as they are); larger ones become a string of their first 256 JSON characters plus "…".
 * The serialiser stops as soon as the budget is spent, so a 3 MiB object costs microseconds.
 */
export const MAX_VALUE_CHARS = 256;

export interface Preview {
  value: unknown;
  truncated: boolean;
}

/** JSON text of `value`, stopping once it exceeds `budget` characters; undefined members are dropped like JSON.stringify. */
function boundedJson(value: unknown, budget: number): string {
  let out = '';
  const write = (v: unknown): boolean => {
    if (out.length > budget) return false;
    if (v === null || typeof v === 'number' || typeof v === 'boolean') {
      out += typeof v === 'number' && !Number.isFinite(v) ? 'null' : String(v);
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.length > budget ? v.slice(0, budget + 1) : v);
    } else if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) out += ',';
        const item = v[i];
        if (!write(item === undefined || typeof item === 'function' ? null : item)) return false;
      }
      out += ']';
    } else if (typeof v === 'object') {
      out += '{';
      let first = true;
      for (const k of Object.keys(v)) {
        const item = (v as Record<string, unknown>)[k];
        if (item === undefined || typeof item === 'function') continue;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(k)}:`;
        if (!write(item)) return false;
      }
      out += '}';
    } else {
      out += 'null';
    }
    return out.length <= budget;
  };
  write(value);
  return out;
}

export function preview(value: unknown, max = MAX_VALUE_CHARS): Preview {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return { value, truncated: false };
  if (typeof value === 'string') {
    return value.length <= max ? { value, truncated: false } : { value: `${value.slice(0, max)}…`, truncated: true };
  }
  const json = boundedJson(value, max);
  if (json.length <= max) return { value, truncated: false };
  return { value: `${json.slice(0, max)}…`, truncated: true };
}
