/**
 * `serve --capture-dir DIR`: every review a policy covered (any result but skip) is written to DIR,
 * redacted, one AdmissionReview file each with the answer driftguard gave, ready for
 * `driftguard policy test` to replay.
 *
 * Off the hot path: the admission hook only appends to a bounded queue (O(1), never throws); a
 * single background loop redacts, serialises and writes each file (to a temporary name, then
 * renamed, so a reader never sees half a file). A full queue drops the newest review and counts it;
 * a failed write is logged; neither ever changes an answer.
 */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Hooks } from '../hooks/hooks.js';
import { allowed, denied, review } from '../admission/response.js';
import type { AdmissionRequest } from '../k8s/admission.js';
import type { Decision } from '../engine/decision.js';
import type { Evaluation } from '../engine/evaluate.js';
import { DriftguardError, errorMessage, systemErrorText } from '../errors.js';
import { makeDirectories } from '../files.js';
import { BoundedQueue } from '../queue/bounded-queue.js';
import { createRedactor, type Redactor } from './redact.js';

export interface CaptureOptions {
  dir: string;
  /** Reviews waiting to be written; beyond this they are dropped (and counted). */
  maxQueue?: number;
  /** Stop capturing after this many files, so a busy cluster cannot fill the disk. */
  maxFiles?: number;
  /** Capture dry runs too (Argo CD diffs and Flux reconciles send a stream of them). */
  dryRuns?: boolean;
}

export interface CaptureDeps {
  logger: Logger;
  clock: () => Date;
  redactor?: Redactor;
  /** File writes, replaceable for tests. */
  fs?: { writeFile: typeof writeFile; rename: typeof rename };
}

interface CaptureStats {
  written: number;
  dropped: number;
  failed: number;
  queued: number;
}

export interface CaptureWriter {
  hooks: Hooks;
  /** Resolves when every queued review is written (or has failed). */
  drain(): Promise<void>;
  stats(): CaptureStats;
}

const DEFAULT_MAX_QUEUE = 256;
const DEFAULT_MAX_FILES = 10_000;
const WRITERS = 4;

interface Item {
  request: AdmissionRequest;
  decision: Decision;
  time: Date;
  /** Order of capture in this process: keeps names unique even for a replayed uid. */
  seq: number;
}

function outcome(d: Decision): 'denied' | 'warned' | 'allowed' {
  if (!d.allowed) return 'denied';
  return d.warnings.length > 0 ? 'warned' : 'allowed';
}

function safe(part: string | undefined): string {
  const s = (part ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return s === '' ? '_' : s;
}

/** 20261124T120000.123Z-000001-denied-prod-shop-web-2c5f39cb.json: sorts by time, says what happened. */
function captureFileName(item: Item): string {
  const r = item.request;
  const time = item.time.toISOString().replace(/[-:]/g, '');
  const name = r.name !== undefined && r.name !== '' ? r.name : (r.object ?? r.oldObject)?.metadata?.generateName;
  const sub = typeof r.subResource === 'string' && r.subResource !== '' ? `-${safe(r.subResource)}` : '';
  return `${time}-${String(item.seq).padStart(6, '0')}-${outcome(item.decision)}-${safe(r.namespace)}-${safe(name)}${sub}-${safe(r.uid).slice(0, 8)}.json`;
}

function covered(evaluation: Evaluation): boolean {
  return evaluation.results.some((r) => r.status !== 'skip');
}

export async function openCapture(opts: CaptureOptions, deps: CaptureDeps): Promise<CaptureWriter> {
  try {
    makeDirectories(opts.dir);
  } catch (err) {
    throw new DriftguardError('DG_CAPTURE', `cannot create capture directory ${opts.dir}: ${systemErrorText(err)}`, { cause: err });
  }
  return captureWriter(opts, deps);
}

export function captureWriter(opts: CaptureOptions, deps: CaptureDeps): CaptureWriter {
  const maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
  const maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
  const redactor = deps.redactor ?? createRedactor();
  const fs = deps.fs ?? { writeFile, rename };
  const stats = { written: 0, dropped: 0, failed: 0 };
  let reserved = 0;
  let seq = 0;
  let limitLogged = false;

  function warnEvery(count: number, obj: object, msg: string): void {
    // The first problem, then every hundredth: a full disk must not flood the log.
    if (count === 1 || count % 100 === 0) deps.logger.warn({ code: 'DG_CAPTURE', ...obj }, msg);
  }

  async function writeOne(item: Item): Promise<void> {
    const { request, redacted } = redactor.request(item.request);
    const extras = { warnings: item.decision.warnings, auditAnnotations: item.decision.auditAnnotations };
    const response = item.decision.allowed
      ? allowed(request.uid, extras)
      : denied(request.uid, item.decision.message ?? 'denied by driftguard', extras);
    const answered = review('admission.k8s.io/v1', response);
    const body = { apiVersion: answered.apiVersion, kind: answered.kind, request, response: answered.response };
    const file = path.join(opts.dir, captureFileName(item));
    const tmp = `${file}.tmp`;
    await fs.writeFile(tmp, `${JSON.stringify(body, null, 1)}\n`, { flag: 'w' });
    await fs.rename(tmp, file);
    if (redacted.length > 0) deps.logger.debug({ file, redacted }, 'captured review redacted');
    stats.written++;
  }

  const queue = new BoundedQueue<Item>({
    capacity: maxQueue,
    // A few writes in flight: file system latency, not CPU, bounds a single writer.
    concurrency: WRITERS,
    handle: ([item]) => writeOne(item!),
    onDrop: () => {
      stats.dropped++;
      warnEvery(stats.dropped, { dropped: stats.dropped, maxQueue }, 'capture queue full; review dropped');
    },
    onError: (err) => {
      stats.failed++;
      reserved--;
      warnEvery(
        stats.failed,
        { err: { message: errorMessage(err) }, dir: opts.dir, failed: stats.failed },
        'could not write a captured review',
      );
    },
  });

  function onDecision(info: { request: AdmissionRequest; evaluation: Evaluation; decision: Decision }): void {
    try {
      if (!covered(info.evaluation)) return;
      if (info.request.dryRun === true && opts.dryRuns !== true) return;
      if (reserved >= maxFiles) {
        if (!limitLogged)
          deps.logger.warn({ code: 'DG_CAPTURE', dir: opts.dir, maxFiles }, 'capture limit reached; no more reviews are captured');
        limitLogged = true;
        return;
      }
      if (queue.push({ request: info.request, decision: info.decision, time: deps.clock(), seq: seq + 1 })) {
        seq++;
        reserved++;
      }
    } catch (err) {
      deps.logger.warn({ code: 'DG_CAPTURE', err: { message: errorMessage(err) } }, 'capture failed');
    }
  }

  return {
    hooks: { onDecision },
    drain: () => queue.drain(),
    stats: () => ({ ...stats, queued: queue.pending }),
  };
}
