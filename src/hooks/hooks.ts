/**
 * Everything observable about driftguard at work, as one typed interface: the admission handler,
 * the change ledger and the server call these; metrics, Kubernetes Events, notifications, capture
 * and a caller's own hooks listen. Every hook is optional, none may block the admission path.
 *
 * fanOut() hands each event to every listener in order, each in its own try/catch: a listener that
 * throws is logged and never felt by the request, the records or the other listeners.
 */
import type { Logger } from 'pino';
import type { Decision } from '../engine/decision.js';
import type { Evaluation } from '../engine/evaluate.js';
import type { AdmissionRequest } from '../k8s/admission.js';
import type { ChangeRecord } from '../records/record.js';

export interface DecisionInfo {
  request: AdmissionRequest;
  evaluation: Evaluation;
  decision: Decision;
  evaluationSeconds: number;
}

interface PolicyLoadInfo {
  ok: boolean;
  policies: number;
  error?: string;
}

interface CertificateLoadInfo {
  notAfter: Date;
}

export interface Hooks {
  /** A review was judged (after its records were written). */
  onDecision?(info: DecisionInfo): void;
  /** A change record was written (every stage); for metrics and DriftObserved Events. */
  onChangeRecord?(record: ChangeRecord): void;
  /** A policy set was loaded (at start or on reload), or a reload was rejected (the old set keeps serving). */
  onPolicyLoad?(info: PolicyLoadInfo): void;
  /** A serving certificate was loaded (at start or on reload). */
  onCertificateLoad?(info: CertificateLoadInfo): void;
}

/** One set of hooks that calls every listener's, in order, each isolated. */
export function fanOut(logger: Logger, listeners: readonly Hooks[]): Required<Hooks> {
  const failed = (hook: keyof Hooks, err: unknown): void => logger.error({ err, hook }, 'a hook listener failed');
  return {
    onDecision(info) {
      for (const l of listeners) {
        try {
          l.onDecision?.(info);
        } catch (err) {
          failed('onDecision', err);
        }
      }
    },
    onChangeRecord(record) {
      for (const l of listeners) {
        try {
          l.onChangeRecord?.(record);
        } catch (err) {
          failed('onChangeRecord', err);
        }
      }
    },
    onPolicyLoad(info) {
      for (const l of listeners) {
        try {
          l.onPolicyLoad?.(info);
        } catch (err) {
          failed('onPolicyLoad', err);
        }
      }
    },
    onCertificateLoad(info) {
      for (const l of listeners) {
        try {
          l.onCertificateLoad?.(info);
        } catch (err) {
          failed('onCertificateLoad', err);
        }
      }
    },
  };
}
