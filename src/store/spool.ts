/**
 * The spool: a bounded local file of record lines (the records file's own format, so `driftguard
 * store import SPOOL` also reads it) that serve appends to while the store is unreachable, and
 * drains from the start, in order, when it returns. Appends and reads are one at a time (the
 * shipper never runs two steps at once), so the file is never read while half written.
 */
import { open, stat, truncate, appendFile } from 'node:fs/promises';
import { checkAppendable } from '../files.js';

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

  /** Append lines while they fit; returns how many did (the rest are not spooled). */
  async append(lines: readonly string[]): Promise<number> {
    let text = '';
    let n = 0;
    for (const line of lines) {
      const add = Buffer.byteLength(line) + 1;
      if (this.bytes + Buffer.byteLength(text) + add > this.maxBytes) break;
      text += `${line}\n`;
      n++;
    }
    if (text !== '') {
      await appendFile(this.file, text);
      this.bytes += Buffer.byteLength(text);
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
