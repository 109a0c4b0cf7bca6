/**
 * Kubernetes Events for drift, as core/v1 Event objects on the target (involvedObject): reason
 * ManualEditDenied for a denial, DriftObserved for drift let through (warned, audited,
 * break-glass), naming the actor and the fields. One Event per object, reason and actor within an
 * aggregation window, its `count` raised as the same thing happens again (as client-go's
 * EventCorrelator does). Pure.
 */
import { apiVersion, key } from '../k8s/object-ref.js';
import { describeSignal, type DriftSignal } from '../signal/signal.js';

type EventReason = 'ManualEditDenied' | 'DriftObserved';

function eventReason(s: DriftSignal): EventReason {
  return s.kind === 'denied' ? 'ManualEditDenied' : 'DriftObserved';
}

/** The API server's own limit for events.k8s.io notes; kubectl shows the message on one line. */
const MAX_EVENT_MESSAGE = 1024;

function eventMessage(s: DriftSignal): string {
  const text = describeSignal(s);
  return text.length <= MAX_EVENT_MESSAGE ? text : `${text.slice(0, MAX_EVENT_MESSAGE - 1)}…`;
}

/** Events of a cluster-scoped object live in `default` (client-go does the same). */
export function eventNamespace(s: DriftSignal): string {
  return s.target.namespace ?? 'default';
}

/** Same object, same reason, same actor: one Event. */
export function aggregationKey(s: DriftSignal): string {
  return [key(s.target), eventReason(s), s.actor.username].join('\u0000');
}

/** client-go's naming: `<object>.<hex nanoseconds>`, kept a valid DNS subdomain. */
export function eventName(targetName: string, at: Date, seq = 0): string {
  const base =
    targetName
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 200) || 'object';
  const nanos = BigInt(at.getTime()) * 1_000_000n + BigInt(seq);
  return `${base}.${nanos.toString(16)}`;
}

export interface EventSource {
  /** `driftguard` */
  component: string;
  /** This replica (the pod name). */
  instance: string;
}

/** metav1.Time: RFC 3339 in whole seconds. */
function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export interface EventState {
  name: string;
  signal: DriftSignal;
  count: number;
  first: Date;
  last: Date;
}

export function eventObject(e: EventState, source: EventSource): Record<string, unknown> {
  const t = e.signal.target;
  const involved: Record<string, string> = { apiVersion: apiVersion(t), kind: t.kind, name: t.name };
  if (t.namespace !== undefined) involved.namespace = t.namespace;
  if (t.uid !== undefined) involved.uid = t.uid;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: e.name, namespace: eventNamespace(e.signal) },
    involvedObject: involved,
    reason: eventReason(e.signal),
    message: eventMessage(e.signal),
    type: 'Warning',
    source: { component: source.component },
    reportingComponent: `driftguard.io/${source.component}`,
    reportingInstance: source.instance,
    action: e.signal.kind === 'denied' ? 'Denied' : 'Admitted',
    firstTimestamp: kubeTime(e.first),
    lastTimestamp: kubeTime(e.last),
    count: e.count,
  };
}

/** What a later occurrence changes (a JSON merge patch). */
export function eventUpdate(e: EventState): Record<string, unknown> {
  return { count: e.count, lastTimestamp: kubeTime(e.last), message: eventMessage(e.signal) };
}
