/**
 * The spool's append over a real file: lines go in whole and in order across its 256 KiB write
 * chunks, up to the bound and no further; what did not fit is counted by the return value, and a
 * drain reads back exactly the lines appended.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../src/store/spool.js';

function spoolIn(maxBytes: number): Spool {
  return new Spool(path.join(mkdtempSync(path.join(tmpdir(), 'driftguard-spool-unit-')), 'spool'), maxBytes);
}

// 1,000 lines of 1,002 bytes each with the newline (two-byte characters: bytes, not characters,
// count): about four of append's write chunks.
const lines = Array.from({ length: 1_000 }, (_, i) => `{"n":${String(i).padStart(6, '0')},"pad":"${'é'.repeat(490)}"}`);

describe('Spool.append', () => {
  it('writes every line that fits, whole and in order, across several chunks', async () => {
    const spool = spoolIn(10 * 1024 * 1024);
    await spool.open();
    expect(await spool.append(lines)).toBe(lines.length);
    const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect(spool.pending()).toBe(bytes);
    expect(readFileSync(spool.file, 'utf8')).toBe(`${lines.join('\n')}\n`);
  });

  it('stops at the bound: the lines that fit are appended, the count says how many', async () => {
    const each = Buffer.byteLength(lines[0]!) + 1;
    const spool = spoolIn(each * 300 + each - 1);
    await spool.open();
    expect(await spool.append(lines)).toBe(300);
    expect(await spool.append(lines.slice(0, 1))).toBe(0);
    const { lines: back } = await spool.peek(10_000);
    expect(back).toEqual(lines.slice(0, 300));
  });
});
