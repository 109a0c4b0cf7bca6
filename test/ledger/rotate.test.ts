import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, resolveRecordSources } from '../../src/records/read.js';
import { openRecordSink, type RecordSink } from '../../src/records/sink.js';
import { RECORD_SCHEMA } from '../../src/records/record.js';

const T0 = Date.parse('2026-11-24T12:00:00Z');

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'driftguard-rotate-')), 'records', 'driftguard.jsonl');
}

/** A record the reader accepts, numbered, with some bulk so files fill up. */
function rec(seq: number, replica = 'a'): object {
  return { type: 'change', time: new Date(T0 + seq).toISOString(), seq, replica, padding: 'x'.repeat(120 + (seq % 37)) };
}

function rawLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** Every file of the set, oldest rotation first, as the reader orders them. */
function filesOldestFirst(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const rotated = readdirSync(dir)
    .filter((n) => n.startsWith(`${base}.`))
    .map((n) => Number(n.slice(base.length + 1)))
    .sort((a, b) => b - a)
    .map((n) => path.join(dir, `${base}.${n}`));
  return [...rotated, file];
}

async function writeBurst(sink: RecordSink, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    sink.write(rec(i));
    // Mostly synchronous bursts (lines pile up in the batch buffer), with an occasional turn of the
    // event loop so the periodic flush also writes some batches.
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
}

describe('records rotation by size', () => {
  it('rotates under a burst without losing, tearing or reordering a line', async () => {
    const file = tempFile();
    const maxBytes = 32 * 1024;
    const sink = await openRecordSink({ destination: file, rotation: { maxBytes, maxFiles: 500 } });
    await writeBurst(sink, 0, 3000);
    await sink.close();

    const files = filesOldestFirst(file);
    expect(files.length).toBeGreaterThan(10);
    const seqs: number[] = [];
    for (const f of files) {
      for (const line of rawLines(f)) {
        const parsed = JSON.parse(line) as { schema: string; seq: number };
        expect(parsed.schema).toBe(RECORD_SCHEMA);
        seqs.push(parsed.seq);
      }
      // Rotation happens before the line that would not fit.
      expect(statSync(f).size).toBeLessThanOrEqual(maxBytes);
      expect(statSync(f).size).toBeGreaterThan(f === file ? 0 : maxBytes - 400);
    }
    expect(seqs).toEqual(Array.from({ length: 3000 }, (_, i) => i));

    const { records, stats } = await readRecords([file]);
    expect(stats.malformed).toBe(0);
    expect(records.map((r) => r.seq)).toEqual(seqs);
  });

  it('keeps maxFiles rotations: what remains is the newest lines, without a gap', async () => {
    const file = tempFile();
    const sink = await openRecordSink({ destination: file, rotation: { maxBytes: 4 * 1024, maxFiles: 3 } });
    await writeBurst(sink, 0, 1500);
    await sink.close();
    const files = filesOldestFirst(file);
    expect(files.map((f) => path.basename(f))).toEqual([
      'driftguard.jsonl.3',
      'driftguard.jsonl.2',
      'driftguard.jsonl.1',
      'driftguard.jsonl',
    ]);
    const seqs = files.flatMap((f) => rawLines(f).map((l) => (JSON.parse(l) as { seq: number }).seq));
    expect(seqs.at(-1)).toBe(1499);
    expect(seqs[0]).toBeGreaterThan(0);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
  });

  it('a restart appends to the records file instead of truncating it', async () => {
    const file = tempFile();
    const first = await openRecordSink({ destination: file, rotation: { maxBytes: 1024 * 1024, maxFiles: 2 } });
    await writeBurst(first, 0, 10);
    await first.close();
    const second = await openRecordSink({ destination: file, rotation: { maxBytes: 1024 * 1024, maxFiles: 2 } });
    await writeBurst(second, 10, 10);
    await second.close();
    expect(rawLines(file).map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(existsSync(`${file}.1`)).toBe(false);
  });

  it('a restart that finds the file already full rotates it first, keeping its lines', async () => {
    const file = tempFile();
    const first = await openRecordSink({ destination: file });
    await writeBurst(first, 0, 40);
    await first.close();
    const size = statSync(file).size;
    const second = await openRecordSink({ destination: file, rotation: { maxBytes: size, maxFiles: 2 } });
    await writeBurst(second, 40, 5);
    await second.close();
    expect(rawLines(`${file}.1`)).toHaveLength(40);
    expect(rawLines(file).map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([40, 41, 42, 43, 44]);
  });

  it('the reader takes rotated files oldest first, so equal times keep write order', async () => {
    const file = tempFile();
    const dir = path.dirname(file);
    await openRecordSink({ destination: file }).then((s) => s.close());
    const line = (seq: number) =>
      `${JSON.stringify({ schema: 'driftguard.io/v1', type: 'change', time: new Date(T0).toISOString(), seq })}\n`;
    writeFileSync(`${file}.10`, line(0));
    writeFileSync(`${file}.2`, line(1));
    writeFileSync(`${file}.1`, line(2));
    writeFileSync(file, line(3));
    expect((await resolveRecordSources([file])).map((f) => path.basename(f))).toEqual([
      'driftguard.jsonl.10',
      'driftguard.jsonl.2',
      'driftguard.jsonl.1',
      'driftguard.jsonl',
    ]);
    expect((await readRecords([file])).records.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect((await readRecords([dir])).records.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });
});
