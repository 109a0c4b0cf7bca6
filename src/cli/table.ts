/** kubectl-style tables: upper-case headers, columns padded to their widest cell, three spaces apart. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
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
