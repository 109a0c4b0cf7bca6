/**
 * Reading a records file while the server appends to it: the last line may be cut in the middle
 * of a write. It is skipped as unfinished, not reported as malformed; a cut line anywhere else,
 * or a last line followed by a newline, is still malformed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readNote } from '../../src/audit/report.js';
import { readRecords } from '../../src/records/read.js';
import { RECORD_SCHEMA } from '../../src/records/record.js';

const line = (seq: number): string =>
  JSON.stringify({ schema: RECORD_SCHEMA, type: 'change', time: new Date(Date.parse('2026-11-24T12:00:00Z') + seq).toISOString(), seq });
const whole = [line(1), line(2), line(3)].join('\n') + '\n';
const cut = line(4).slice(0, 40);

function file(text: string): string {
  const f = path.join(mkdtempSync(path.join(tmpdir(), 'driftguard-live-')), 'driftguard.jsonl');
  writeFileSync(f, text);
  return f;
}

describe('a records file read while it is written', () => {
  it('skips a cut last line with no newline after it as unfinished', async () => {
    const { records, stats } = await readRecords([file(whole + cut)]);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(stats).toMatchObject({ lines: 3, records: 3, malformed: 0, unfinished: 1, malformedAt: [] });
    expect(readNote(stats, { violations: 0, changes: 3, otherTypes: 0, invalid: 0, superseded: 0 })).toContain(
      '1 last line still being written skipped',
    );
  });

  it('calls the same cut line malformed when a newline ends it, or when lines follow it', async () => {
    const ended = await readRecords([file(whole + cut + '\n')]);
    expect(ended.stats).toMatchObject({ records: 3, malformed: 1, unfinished: 0 });
    expect(ended.stats.malformedAt[0]).toMatch(/driftguard\.jsonl:4$/);
    const inside = await readRecords([file(cut + '\n' + whole)]);
    expect(inside.stats).toMatchObject({ records: 3, malformed: 1, unfinished: 0 });
    expect(inside.stats.malformedAt[0]).toMatch(/driftguard\.jsonl:1$/);
  });

  it('reads a whole last record with no newline after it, and judges a piped stream by its last chunk', async () => {
    const noNewline = await readRecords([file(whole + line(4))]);
    expect(noNewline.records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(noNewline.stats).toMatchObject({ malformed: 0, unfinished: 0 });
    const piped = await readRecords(['-'], { stdin: Readable.from([Buffer.from(whole), Buffer.from(cut)]) });
    expect(piped.stats).toMatchObject({ records: 3, malformed: 0, unfinished: 1 });
    const pipedEnded = await readRecords(['-'], { stdin: Readable.from([Buffer.from(whole + cut), Buffer.from('\n')]) });
    expect(pipedEnded.stats).toMatchObject({ records: 3, malformed: 1, unfinished: 0 });
  });
});
