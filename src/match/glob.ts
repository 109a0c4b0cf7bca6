/** `*` globs, compiled once at policy load. Only `*` is special: everything else matches itself. */
export type StringMatcher = (value: string) => boolean;

export function compileGlob(pattern: string): StringMatcher {
  if (!pattern.includes('*')) return (v) => v === pattern;
  if (pattern === '*') return () => true;
  // The common shapes (prod-*, *-system) without a regular expression: they run for every policy
  // of every request.
  const star = pattern.indexOf('*');
  if (star === pattern.lastIndexOf('*')) {
    const head = pattern.slice(0, star);
    const tail = pattern.slice(star + 1);
    if (tail === '') return (v) => v.startsWith(head);
    if (head === '') return (v) => v.endsWith(tail);
    return (v) => v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
  }
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`, 's');
  return (v) => re.test(v);
}

export function compileGlobList(patterns: readonly string[]): StringMatcher {
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*')).map(compileGlob);
  if (globs.length === 0) return (v) => exact.has(v);
  return (v) => exact.has(v) || globs.some((g) => g(v));
}
