/**
 * The audit log's line splitter (src/auditlog/lines.ts) at its edges: lines across reads and
 * across the buffer's end, a line exactly the buffer's size or the limit's, blank lines, CRLF, a
 * last line with no newline, and lines not whole handed on whatever they name.
 */
import { describe, expect, it } from 'vitest';
import { LineScanner, type ByteSource, type LineScanOptions } from '../../src/auditlog/lines.js';

/** Bytes handed out at most `chunk` at a time, as a file or a gunzip stream hands them. */
function source(bytes: Buffer, chunk: number): ByteSource {
  let at = 0;
  return async (buf, offset, length) => {
    const n = Math.min(length, chunk, bytes.length - at);
    bytes.copy(buf, offset, at, at + n);
    at += n;
    return n;
  };
}

interface Scanned {
  lines: [number, string][];
  oversize: number[];
  samples: string[];
  total: number;
}

async function scan(
  text: string | Buffer,
  opts: Partial<Omit<LineScanOptions, 'needles'>> & { needles?: string[] } = {},
  chunk = 1 << 20,
): Promise<Scanned> {
  const out: Scanned = { lines: [], oversize: [], samples: [], total: 0 };
  const scanner = new LineScanner(
    { maxLineBytes: opts.maxLineBytes ?? 1024, bufferBytes: opts.bufferBytes, needles: opts.needles?.map((n) => Buffer.from(n)) },
    {
      line: (bytes, lineNo) => out.lines.push([lineNo, bytes.toString('utf8')]),
      oversize: (lineNo) => out.oversize.push(lineNo),
      sample: (bytes) => out.samples.push(bytes.toString('utf8')),
    },
  );
  await scanner.scan(source(typeof text === 'string' ? Buffer.from(text) : text, chunk));
  out.total = scanner.lines;
  return out;
}

/** A JSON line of exactly `n` bytes (n >= 12), naming `name`. */
function lineOf(n: number, name = 'web'): string {
  const head = `{"n":"${name}","p":"`;
  const tail = '"}';
  return head + 'x'.repeat(n - head.length - tail.length) + tail;
}

describe('LineScanner', () => {
  it('hands on every line, numbered, however the reads split them', async () => {
    const lines = ['{"a":1}', '{"b":22}', lineOf(100), '{"d":4}'];
    const text = lines.join('\n') + '\n';
    for (const chunk of [1, 3, 7, 64, 1 << 20]) {
      const r = await scan(text, { bufferBytes: 16 }, chunk);
      expect(r.lines, `chunk ${chunk}`).toEqual(lines.map((l, i) => [i + 1, l]));
      expect(r.total).toBe(4);
      expect(r.oversize).toEqual([]);
    }
  });

  it('a line across the buffer boundary: the buffer grows, the line comes out whole', async () => {
    const long = lineOf(50);
    const r = await scan(`{"a":1}\n${long}\n{"c":3}\n`, { bufferBytes: 16 });
    expect(r.lines).toEqual([
      [1, '{"a":1}'],
      [2, long],
      [3, '{"c":3}'],
    ]);
  });

  it('a line exactly the buffer size, with and without its newline inside the buffer', async () => {
    for (const n of [31, 32, 33]) {
      const exact = lineOf(n);
      const r = await scan(`${exact}\n${exact}\n`, { bufferBytes: 32 });
      expect(r.lines, `line of ${n} bytes, buffer of 32`).toEqual([
        [1, exact],
        [2, exact],
      ]);
    }
  });

  it('a line exactly at the limit is read; one byte more is skipped, never held, and the next line is read', async () => {
    const atLimit = lineOf(64);
    const over = lineOf(65);
    const r = await scan(`${atLimit}\n${over}\n{"after":1}\n`, { maxLineBytes: 64, bufferBytes: 16 }, 5);
    expect(r.lines).toEqual([
      [1, atLimit],
      [3, '{"after":1}'],
    ]);
    expect(r.oversize).toEqual([2]);
    expect(r.total).toBe(3);
    // Over the limit as the last line, with no newline after it.
    const last = await scan(`{"a":1}\n${over}`, { maxLineBytes: 64, bufferBytes: 16 });
    expect(last.oversize).toEqual([2]);
    expect(last.lines).toEqual([[1, '{"a":1}']]);
  });

  it('blank lines are counted for the line numbers and never handed on', async () => {
    const r = await scan('\n\n{"a":1}\n\n\n{"b":2}\n\n', { bufferBytes: 16 }, 3);
    expect(r.lines).toEqual([
      [3, '{"a":1}'],
      [6, '{"b":2}'],
    ]);
    expect(r.total).toBe(7);
    expect((await scan('')).total).toBe(0);
    expect((await scan('\n')).lines).toEqual([]);
  });

  it('CRLF line ends: whole lines, each with its CR (the parser trims it), and none taken for cut off', async () => {
    const r = await scan('{"n":"web"}\r\n{"n":"db"}\r\n{"n":"web","x":1}\r\n', { needles: ['"web"'] }, 4);
    expect(r.lines).toEqual([
      [1, '{"n":"web"}\r'],
      [3, '{"n":"web","x":1}\r'],
    ]);
  });

  it('the last line with no newline after it is handed on, whole or cut off', async () => {
    expect((await scan('{"a":1}\n{"n":"web"}', { needles: ['"web"'] })).lines).toEqual([[2, '{"n":"web"}']]);
    // Cut off before the name: still handed on, so that it is reported.
    expect((await scan('{"n":"db"}\n{"n":"w', { needles: ['"web"'] })).lines).toEqual([[2, '{"n":"w']]);
    expect((await scan('{"n":"db"}\n{"n":"db"}', { needles: ['"web"'] })).lines).toEqual([]);
  });

  it('with needles, lines without them are passed over, but a line not whole is handed on whatever it names', async () => {
    const text = [
      '{"n":"web","ns":"prod"}',
      '{"n":"web","ns":"dev"}',
      '{"n":"db","ns":"prod"}',
      '{"n":"db","ns":',
      'garbage',
      '{"n":"web","ns":"prod"}',
    ].join('\n');
    for (const chunk of [2, 9, 1 << 20]) {
      const r = await scan(text + '\n', { needles: ['"web"', '"prod"'], bufferBytes: 16 }, chunk);
      expect(r.lines, `chunk ${chunk}`).toEqual([
        [1, '{"n":"web","ns":"prod"}'],
        [4, '{"n":"db","ns":'],
        [5, 'garbage'],
        [6, '{"n":"web","ns":"prod"}'],
      ]);
      expect(r.total).toBe(6);
    }
  });

  it('samples the first line and the last whole line of each read (so the file covers its first to last event)', async () => {
    const r = await scan('{"t":1}\n{"t":2}\n{"t":3}\n', { needles: ['"none"'] });
    expect(r.lines).toEqual([]);
    expect(r.samples[0]).toBe('{"t":1}');
    expect(r.samples[r.samples.length - 1]).toBe('{"t":3}');
  });
});
