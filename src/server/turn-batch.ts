/**
 * Reviews whose bodies complete in one turn of the event loop are judged together, right after
 * that turn's I/O callbacks (setImmediate runs in Node's check phase, which follows the poll phase
 * of the same turn), one after another, and their answers are written after all of them are judged
 * (each judge runs to its first `await`, so the writes of the answers follow as microtasks).
 *
 * Judged as they arrive, each review ran its parse, the engine and the records cold: between two
 * reviews the TLS writes, the HTTP parser and the GC of the turn had evicted them from the CPU's
 * caches. Judged back to back, the same code and data serve every review of the batch: a Scale
 * review costs 93 µs of CPU instead of 133 µs in `driftguard serve` (docs/performance.md). A review
 * waits at most for the rest of its turn, which holds no more reviews than there are connections
 * with one ready.
 *
 * Bounded: a batch runs at once when it holds `maxItems`; the caller judges large bodies at once
 * instead of batching them, so a batch never holds many large parses at the same time.
 */
export class TurnBatch {
  private items: Array<() => void> = [];
  private scheduled = false;

  constructor(
    private readonly maxItems: number,
    /** Told of a run that threw (the batch goes on with the next). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Run `job` after the current turn's I/O, with the others added in this turn. */
  add(job: () => void): void {
    this.items.push(job);
    if (this.items.length >= this.maxItems) this.run();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.scheduledRun);
    }
  }

  private readonly scheduledRun = (): void => {
    this.scheduled = false;
    this.run();
  };

  private run(): void {
    const items = this.items;
    this.items = [];
    for (const job of items) {
      try {
        job();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
