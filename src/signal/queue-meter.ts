/** What every background queue (Events, notifications) reports: sent, and dropped by reason. Metrics implements it. */
/** Why a queue drops: full, the receiver refused (4xx), kept failing (5xx, timeouts), or shutdown came first. */
export const DROP_REASONS = ['queue_full', 'rejected', 'failed', 'shutdown'] as const;

/** Where a queue (Events, notifications) reports what it sent and what it had to drop. */
export interface QueueMeter {
  sent(n?: number): void;
  dropped(reason: string, n?: number): void;
}
