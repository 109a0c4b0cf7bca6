const GAP = 3;
/** A column is never cut below this many characters (or its header). */
const MIN_COLUMN = 8;

/**
 * kubectl-style tables: upper-case headers, columns padded to their widest cell, three spaces apart.
 * With `width` (the terminal's), the widest columns are narrowed, one character at a time, until
 * the table fits or every column is at its minimum; a cut cell keeps its start and its end (cell()).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], opts: { width?: number } = {}): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  if (opts.width !== undefined && opts.width > 0) {
    const floor = headers.map((h, i) => Math.min(widths[i]!, Math.max(h.length, MIN_COLUMN)));
    let total = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
    while (total > opts.width) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      if (widest < 0) break;
      widths[widest]!--;
      total--;
    }
  }
  const fit = (c: string, i: number) => (c.length > widths[i]! ? cell(c, widths[i]!) : c);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? fit(c, i) : fit(c, i).padEnd(widths[i]!)))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * A value for a table cell: strings as they are, everything else as JSON, at most `max` characters.
 * Longer ones lose their middle, so an image keeps its tag: registry.example.com…hop/checkout:1.43.0.
 */
export function cell(value: unknown, max = 40): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  const flat = text.replace(/\s+/g, ' ');
  if (flat.length <= max) return flat;
  const tail = Math.floor((max - 1) / 2);
  return `${flat.slice(0, max - 1 - tail)}…${flat.slice(flat.length - tail)}`;
}
