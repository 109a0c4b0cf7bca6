/**
 * The spool: a bounded local file of record lines (the records file's own format, so `driftguard
 * store import SPOOL` also reads it) that serve appends to while the store is unreachable, and
 * drains from the start, in order, when it returns. Appends and reads are one at a time (the
 * shipper never runs two steps at once), so the file is never read while half written.
 */
import { open, stat, truncate, appendFile } from 'node:fs/promises';
import { checkAppendable } from '../files.js';

/** Bytes written by one append call to the file (a chunk of lines). */
const APPEND_CHUNK_BYTES = 256 * 1024;

export class Spool {
  private bytes = 0;
  /** Where the next drain read starts: lines before it are in the store. */
  private offset = 0;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {}

  /** Check the file can be written (creating it when missing); pick up what a previous process left. */
  async open(): Promise<void> {
    checkAppendable(this.file);
    this.bytes = (await stat(this.file)).size;
    this.offset = 0;
  }

  /** Bytes not yet drained. */
  pending(): number {
    return this.bytes - this.offset;
  }

  /** Bytes the file holds (drained lines stay until the whole spool is drained). */
  size(): number {
    return this.bytes;
  }

  /**
   * Append lines while they fit; returns how many did (the rest are not spooled). Each line is
   * measured once and the file is written in chunks of about 256 KiB, each awaited: a queue of tens
   * of thousands of lines (a store down for a while) never holds the event loop. (Measuring the
   * text gathered so far for every line was quadratic: 11 s of a blocked loop for a few thousand
   * lines, measured in test/store/serve-store.test.ts's kill test.)
   */
  async append(lines: readonly string[]): Promise<number> {
    let n = 0;
    while (n < lines.length) {
      const chunk: string[] = [];
      let size = 0;
      let full = false;
      for (; n < lines.length && size < APPEND_CHUNK_BYTES; n++) {
        const add = Buffer.byteLength(lines[n]!) + 1;
        if (this.bytes + size + add > this.maxBytes) {
          full = true;
          break;
        }
        chunk.push(lines[n]!);
        size += add;
      }
      if (chunk.length > 0) {
        await appendFile(this.file, `${chunk.join('\n')}\n`);
        this.bytes += size;
      }
      if (full) break;
    }
    return n;
  }

  /** Up to `max` whole lines from the drain position (at most about 4 MiB), and the offset after them. */
  async peek(max: number): Promise<{ lines: string[]; next: number }> {
    if (this.pending() === 0) return { lines: [], next: this.offset };
    const fh = await open(this.file, 'r');
    try {
      const size = Math.min(this.pending(), 4 * 1024 * 1024);
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, this.offset);
      const lines: string[] = [];
      let start = 0;
      for (let i = 0; i < bytesRead && lines.length < max; i++) {
        if (buf[i] !== 0x0a) continue;
        const line = buf.subarray(start, i).toString('utf8');
        if (line !== '') lines.push(line);
        start = i + 1;
      }
      // A tail with no newline is what a crash in the middle of an append leaves (appends end in one): dropped.
      if (lines.length === 0 && start === 0 && bytesRead === this.pending()) return { lines: [], next: this.bytes };
      if (start === 0 && bytesRead === size && size === 4 * 1024 * 1024) {
        // One line over 4 MiB: no record is (values are cut at 256 characters); skip it.
        return { lines: [], next: this.offset + bytesRead };
      }
      return { lines, next: this.offset + start };
    } finally {
      await fh.close();
    }
  }

  /** The lines up to `next` are in the store; once all are, the file is emptied. */
  async advance(next: number): Promise<void> {
    this.offset = next;
    if (this.offset >= this.bytes) {
      await truncate(this.file, 0);
      this.bytes = 0;
      this.offset = 0;
    }
  }
}
