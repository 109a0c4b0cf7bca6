/** Drift signals as the server makes them: a review judged by the real handler, then signalsOf. */
import type { AdmissionReviewRequest } from '../../src/k8s/admission.js';
import type { QueueMeter } from '../../src/signal/queue-meter.js';
import { signalsOf, type DriftSignal } from '../../src/signal/signal.js';
import { SAMPLE_POLICIES } from './fixtures.js';
import { judge, NOW, policies } from './judge.js';

export async function signalsFor(review: AdmissionReviewRequest, now: Date = NOW): Promise<DriftSignal[]> {
  const set = await policies(SAMPLE_POLICIES);
  const r = await judge(review, set, { now });
  return signalsOf({ request: review.request, evaluation: r.evaluation }, now, set.gitops);
}

export interface CountingMeter extends QueueMeter {
  sentCount: number;
  drops: Record<string, number>;
}

export function countingMeter(): CountingMeter {
  const m: CountingMeter = {
    sentCount: 0,
    drops: {},
    sent(n = 1) {
      m.sentCount += n;
    },
    dropped(reason, n = 1) {
      m.drops[reason] = (m.drops[reason] ?? 0) + n;
    },
  };
  return m;
}

export { until } from './wait.js';
