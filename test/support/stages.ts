/**
 * One write as the API server's admission chain shows it to driftguard's three observation points
 * (docs/kubernetes.md):
 * - entry: the first mutating webhook: the object as the requester sent it (a CREATE has no uid,
 *   creationTimestamp or generation yet; a generateName CREATE has no name yet);
 * - exit: the last mutating webhook (reinvocationPolicy IfNeeded): after every other mutating webhook;
 * - final: the validating webhook: for CREATE with uid, creationTimestamp and generation set (and the
 *   generated name), for UPDATE with the generation bumped when the spec changed.
 * Each call gets its own uid. `persisted` is the stored object once the write is admitted.
 */
import { randomUUID } from 'node:crypto';
import { buildReview } from '../../src/admission/build.js';
import type { AdmissionReviewRequest, KubeObject, Operation, UserInfo } from '../../src/k8s/admission.js';

export interface WriteSpec {
  operation: Operation;
  userInfo: UserInfo;
  fieldManager?: string;
  /** "scale": entry/exit/final carry Scale objects built from the Deployments. */
  subResource?: 'scale';
  dryRun?: boolean;
  /** The object as the requester sends it (CREATE, UPDATE). */
  sent?: KubeObject;
  /** What the other mutating webhooks do, between entry and exit. */
  mutate?: (o: any) => void;
}

export interface Stages {
  entry: AdmissionReviewRequest;
  exit: AdmissionReviewRequest;
  final: AdmissionReviewRequest;
  persisted: KubeObject | null;
}

const clone = <T>(v: T): T => structuredClone(v);

function specChanged(a: KubeObject | null, b: KubeObject | null): boolean {
  return JSON.stringify(a?.spec ?? null) !== JSON.stringify(b?.spec ?? null);
}

/** The object one write is about, through time: `write` builds the three reviews, `commit` stores the result. */
export class StoredObject {
  stored: KubeObject | null = null;
  private rv = 1000;

  constructor(private readonly now: () => Date) {}

  write(spec: WriteSpec): Stages {
    const old = this.stored === null ? null : clone(this.stored);
    const common = {
      operation: spec.operation,
      userInfo: spec.userInfo,
      ...(spec.fieldManager === undefined ? {} : { fieldManager: spec.fieldManager }),
      ...(spec.subResource === undefined ? {} : { subResource: spec.subResource }),
      ...(spec.dryRun === true ? { dryRun: true } : {}),
    };
    if (spec.operation === 'DELETE') {
      const review = () => buildReview({ ...common, oldObject: old });
      return { entry: review(), exit: review(), final: review(), persisted: null };
    }
    const sent = clone(spec.sent!);
    const mutated = clone(sent);
    spec.mutate?.(mutated);
    const final = clone(mutated);
    if (spec.operation === 'CREATE') {
      final.metadata ??= {};
      if (!final.metadata.name && final.metadata.generateName) final.metadata.name = `${final.metadata.generateName}x7k2p`;
      final.metadata.uid = randomUUID();
      final.metadata.creationTimestamp = this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z');
      final.metadata.generation = 1;
    } else if (specChanged(old, final) && typeof old?.metadata?.generation === 'number') {
      final.metadata!.generation = old.metadata.generation + 1;
    }
    const entry = buildReview({ ...common, object: sent, oldObject: old });
    const exit = buildReview({ ...common, object: mutated, oldObject: old });
    const validating = buildReview({ ...common, object: final, oldObject: old });
    // A generateName CREATE: the request carries no name at any point (the object has the generated one).
    if (spec.operation === 'CREATE' && !sent.metadata?.name) {
      entry.request.name = '';
      exit.request.name = '';
      validating.request.name = '';
    }
    const persisted = clone(final);
    persisted.metadata!.resourceVersion = String(++this.rv);
    if (old?.status !== undefined) persisted.status = clone(old.status);
    return { entry, exit, final: validating, persisted };
  }

  commit(stages: Stages): void {
    this.stored = stages.persisted;
  }

  /** The stored object with `edit` applied, as a requester would send it back. */
  edited(edit: (o: any) => void): KubeObject {
    const copy = clone(this.stored!) as any;
    edit(copy);
    return copy as KubeObject;
  }
}
