/**
 * An audit log's bytes split into lines, without looking at most of them. An audit log of a busy
 * cluster is millions of lines, nearly all of other objects than the one asked about, so:
 * - bytes are read into one buffer that is reused (a fresh buffer per read costs more in page
 *   faults than the read itself), with the partial line at its end moved to its start;
 * - the needle (the object's name as JSON text) is searched in the whole buffer at once, and only
 *   the line around a match is handed on; the other lines are counted (for file:line), never cut
 *   out, copied or decoded;
 * - a line over the limit is never held: its start is dropped and the rest skipped to its newline;
 * - a line that does not start with `{` and end with `}` (cut off, garbage) is handed on whatever
 *   it holds, so that it is reported: checking its first and last byte costs nothing, as every
 *   newline is visited to count lines anyway.
 * A line handed on is only a candidate: the caller parses it and checks what it names.
 */

/** Where bytes come from: read up to `length` bytes into `buf` at `offset`; 0 at the end. */
export type ByteSource = (buf: Buffer, offset: number, length: number) => Promise<number>;

export interface LineHandlers {
  /**
   * A line holding every needle (every line when there is none), or one that is not a whole JSON
   * object; never a blank one. `bytes` is valid during the call only.
   */
  line(bytes: Buffer, lineNo: number): void;
  /** A line over the limit, skipped. */
  oversize(lineNo: number): void;
  /**
   * Some lines whatever they hold, for what the whole file covers: the file's first line and the
   * last whole line of each buffer read (so the file's last line too).
   */
  sample?(bytes: Buffer): void;
}

export interface LineScanOptions {
  /** Only lines holding all of these are handed on (the first is searched for; the rest checked in its line). */
  needles?: readonly Buffer[];
  maxLineBytes: number;
  /** The buffer's first size (it grows for a long line, up to the limit). */
  bufferBytes?: number;
}

const NL = 0x0a;
const CR = 0x0d;
const OPEN = 0x7b;
const CLOSE = 0x7d;

function endsWhole(line: Buffer): boolean {
  const last = line[line.length - 1];
  return last === CLOSE || (last === CR && line[line.length - 2] === CLOSE);
}

/** Lines read so far: the count a caller names when reading breaks off (a gzip stream cut short). */
export class LineScanner {
  /** Lines passed, including skipped and oversize ones. */
  lines = 0;
  private buf: Buffer;
  private readonly first: Buffer | undefined;
  private readonly rest: readonly Buffer[];

  constructor(
    private readonly o: LineScanOptions,
    private readonly h: LineHandlers,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(o.bufferBytes ?? 1024 * 1024, o.maxLineBytes + 1));
    this.first = o.needles?.[0];
    this.rest = o.needles?.slice(1) ?? [];
  }

  async scan(read: ByteSource): Promise<void> {
    let carry = 0;
    /** In a line over the limit: its bytes are dropped up to its newline. */
    let skipping = false;
    let sampledFirst = false;
    for (;;) {
      if (carry === this.buf.length) this.grow(carry);
      const got = await read(this.buf, carry, this.buf.length - carry);
      if (got === 0) break;
      const filled = carry + got;
      // Every search stays inside the bytes read: past them lie an earlier read's.
      const b = this.buf.subarray(0, filled);
      let begin = 0;
      if (skipping) {
        const nl = b.indexOf(NL);
        if (nl < 0) {
          carry = 0;
          continue;
        }
        this.lines++;
        this.h.oversize(this.lines);
        skipping = false;
        begin = nl + 1;
      }
      const lastNl = b.lastIndexOf(NL);
      if (lastNl >= begin) {
        if (!sampledFirst) {
          sampledFirst = true;
          if (this.lines === 0 && begin === 0) this.h.sample?.(b.subarray(0, b.indexOf(NL)));
        }
        this.region(b, begin, lastNl);
        const lastStart = lastNl === 0 ? 0 : b.lastIndexOf(NL, lastNl - 1) + 1;
        if (lastStart >= begin) this.h.sample?.(b.subarray(lastStart, lastNl));
        begin = lastNl + 1;
      }
      carry = filled - begin;
      if (carry > this.o.maxLineBytes) {
        skipping = true;
        carry = 0;
      } else if (carry > 0 && begin > 0) this.buf.copyWithin(0, begin, filled);
    }
    if (skipping) {
      this.lines++;
      this.h.oversize(this.lines);
    } else if (carry > 0) {
      // The last line, with no newline after it (a writer cut off, or a file still being written).
      this.lines++;
      const line = this.buf.subarray(0, carry);
      if (this.holds(line)) this.h.line(line, this.lines);
      this.h.sample?.(line);
    }
  }

  /** The whole lines in b[begin..lastNl] (lastNl is a newline). */
  private region(b: Buffer, begin: number, lastNl: number): void {
    let pos = begin;
    const first = this.first;
    while (pos <= lastNl) {
      const hit = first === undefined ? pos : b.indexOf(first, pos);
      if (hit < 0 || hit > lastNl) {
        this.count(b, pos, lastNl);
        return;
      }
      let start = hit === pos ? pos : b.lastIndexOf(NL, hit - 1) + 1;
      if (start < pos) start = pos;
      if (start > pos) this.count(b, pos, start - 1);
      const end = b.indexOf(NL, hit);
      this.lines++;
      if (end > start) {
        const line = b.subarray(start, end);
        if (this.rest.length === 0 || this.holdsRest(line) || line[0] !== OPEN || !endsWhole(line)) this.h.line(line, this.lines);
      }
      pos = end + 1;
    }
  }

  /** Pass the lines in b[from..to] (`to` is a newline) that hold no needle: only those not whole are handed on. */
  private count(b: Buffer, from: number, to: number): void {
    let pos = from;
    while (pos <= to) {
      const nl = b.indexOf(NL, pos);
      this.lines++;
      if (nl > pos && (b[pos] !== OPEN || !(b[nl - 1] === CLOSE || (b[nl - 1] === CR && b[nl - 2] === CLOSE))))
        this.h.line(b.subarray(pos, nl), this.lines);
      pos = nl + 1;
    }
  }

  private holds(line: Buffer): boolean {
    if (line.length > 0 && (line[0] !== OPEN || !endsWhole(line))) return true;
    return (this.first === undefined || line.includes(this.first)) && this.holdsRest(line);
  }

  private holdsRest(line: Buffer): boolean {
    for (const n of this.rest) if (!line.includes(n)) return false;
    return true;
  }

  /** A line longer than the buffer: twice the size, up to the limit and one byte more. */
  private grow(keep: number): void {
    const next = Buffer.allocUnsafe(Math.min(this.buf.length * 2, this.o.maxLineBytes + 1));
    this.buf.copy(next, 0, 0, keep);
    this.buf = next;
  }
}
