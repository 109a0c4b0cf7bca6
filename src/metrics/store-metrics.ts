/**
 * The records store's metrics (`serve --store`): how much waits in the spool, how far shipping lags,
 * what failed or was dropped. Gauges are computed at scrape time from the shipper; counters are fed
 * by its events. Every series exists from the start at 0, so an alert on increase() sees the first
 * failure. manifests/monitoring/prometheusrule.yaml alerts on them (docs/store.md).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface StoreGaugeSource {
  /** Bytes in the spool not yet in the store. */
  spoolBytes(): number;
  /** Seconds the oldest record not yet in the store has waited. */
  lagSeconds(): number;
  spoolMaxBytes: number;
}

export interface StoreMeter {
  shipped(n: number): void;
  failed(): void;
  dropped(n: number): void;
}

export function registerStoreMetrics(registry: Registry, source: StoreGaugeSource): StoreMeter {
  const registers = [registry];
  new Gauge({
    name: 'driftguard_store_spool_bytes',
    help: 'Bytes of records in the local spool, waiting for the records store (0 while the store takes every batch).',
    registers,
    collect() {
      this.set(source.spoolBytes());
    },
  });
  new Gauge({
    name: 'driftguard_store_spool_max_bytes',
    help: 'The spool bound (--store-spool-max-bytes): records past it are written to the records file only.',
    registers,
    collect() {
      this.set(source.spoolMaxBytes);
    },
  });
  new Gauge({
    name: 'driftguard_store_ship_lag_seconds',
    help: 'Seconds the oldest record not yet in the records store has waited since it was written (0 when none waits).',
    registers,
    collect() {
      this.set(source.lagSeconds());
    },
  });
  const shipped = new Counter({ name: 'driftguard_store_records_shipped_total', help: 'Records sent to the records store.', registers });
  const failures = new Counter({
    name: 'driftguard_store_ship_failures_total',
    help: 'Batches the records store did not take (unreachable, refused); their records wait in the spool.',
    registers,
  });
  const dropped = new Counter({
    name: 'driftguard_store_records_dropped_total',
    help: 'Records the full spool had no room for: in the records file only (driftguard store import loads them).',
    registers,
  });
  shipped.inc(0);
  failures.inc(0);
  dropped.inc(0);
  return { shipped: (n) => shipped.inc(n), failed: () => failures.inc(), dropped: (n) => dropped.inc(n) };
}
