import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';

const doc = readFileSync(path.resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(DG_[A-Z_]+)` \|/gm)].map((m) => m[1]!));

describe('error codes', () => {
  it('every code in src/errors.ts has a line in docs/errors.md', () => {
    const missing = Object.keys(ERROR_CODES).filter((c) => !documented.has(c));
    expect(missing).toEqual([]);
  });

  it('docs/errors.md lists no code the source does not have', () => {
    const stale = [...documented].filter((c) => !(c in ERROR_CODES));
    expect(stale).toEqual([]);
  });
});
