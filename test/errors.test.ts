import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../src/errors.js';

const doc = readFileSync(path.resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');

/** The rows of docs/errors.md's code table: code, HTTP status ('–' for none) and exit code. */
const documented = new Map(
  [...doc.matchAll(/^\| `(DG_[A-Z_]+)` \| ([^|]+) \| ([^|]+) \|/gm)].map((m) => [m[1]!, { http: m[2]!.trim(), exit: m[3]!.trim() }]),
);

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of the error table', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('docs/errors.md gives each code the HTTP status and exit code the table gives it', () => {
    for (const [code, spec] of Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][]) {
      const row = documented.get(code);
      expect({ code, http: row?.http, exit: row?.exit }).toEqual({
        code,
        http: 'http' in spec ? String(spec.http) : '–',
        exit: String(spec.exit),
      });
    }
  });
});
