/**
 * The record sink serve writes through when it has a cluster name or a store: every record is
 * stamped with `cluster` (serve --cluster), written to the records file or stdout first, exactly as
 * without a store, and then it is queued for the store (store/shipper.ts, which makes its line in the batch). The file write
 * keeps the durability rule (the handler flushes before it answers); queuing is O(1) and never fails.
 */
import type { RecordSink } from '../records/sink.js';
import type { Shipper } from './shipper.js';

export interface ShippingSinkOptions {
  cluster?: string;
  shipper?: Shipper;
}

export function shippingSink(inner: RecordSink, opts: ShippingSinkOptions): RecordSink {
  const { cluster, shipper } = opts;
  return {
    write(record) {
      // Records are plain objects built for this one write (records/builders.ts): stamping is safe.
      if (cluster !== undefined) (record as { cluster?: string }).cluster = cluster;
      inner.write(record);
      if (shipper === undefined) return;
      const t = Date.parse((record as { time?: string }).time ?? '');
      shipper.enqueue(record, Number.isNaN(t) ? Date.now() : t);
    },
    flush: () => inner.flush(),
    flushSync: () => inner.flushSync(),
    close: () => inner.close(),
  };
}
