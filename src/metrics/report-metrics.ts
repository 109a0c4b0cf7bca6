/** The report loop's metrics (src/reports/loop.ts): reports written, write failures, trims, queue depth, leadership. */
import { Counter, Gauge, type Registry } from 'prom-client';

export class ReportMetrics {
  readonly written: Counter<'kind'>;
  readonly failures: Counter<'kind'>;
  readonly trimmed: Counter<'what'>;
  readonly queueDepth: Gauge;
  readonly leader: Gauge;

  constructor(registry: Registry, depth: () => number) {
    const registers = [registry];
    this.written = new Counter({
      name: 'driftguard_reports_written_total',
      help: 'Report objects applied (created or updated)',
      labelNames: ['kind'],
      registers,
    });
    this.failures = new Counter({
      name: 'driftguard_report_write_failures_total',
      help: 'Report writes that failed after their retries',
      labelNames: ['kind'],
      registers,
    });
    this.trimmed = new Counter({
      name: 'driftguard_reports_trimmed_total',
      help: 'Results dropped from a report over its bound (what=results), or reports not written over the bound on reports (what=reports)',
      labelNames: ['what'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'driftguard_reports_queue_depth',
      help: 'Objects waiting for their report to be written',
      registers,
      collect() {
        this.set(depth());
      },
    });
    this.leader = new Gauge({ name: 'driftguard_reports_leader', help: '1 while this replica holds the report Lease', registers });
  }
}
