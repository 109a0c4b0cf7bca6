/**
 * driftguard's own work per review, in a loop in the bench's process: the handler calls the server
 * makes for each review of a deck (validate, or an observer), on reviews parsed beforehand, with the
 * dependencies `serve` builds (the records file sink, the metrics hooks, the parents cache, the
 * list-key index), the reviews judged in groups as the server judges one event-loop turn's. No
 * HTTP, no TLS, no JSON.parse, and caches as hot as they get: about the least that work can cost
 * in the server. So floor / (floor + own work) is about the highest driftguard/floor CPU ratio a
 * build doing this work can reach, unless its HTTP layer and parse cost less than the floor's
 * (they cost about the same: docs/performance.md, "Fifth round").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { validate } from '../../dist/admission/handler.js';
import { parseReview } from '../../dist/admission/review.js';
import { ParentResolver } from '../../dist/cluster/parents.js';
import { fanOut } from '../../dist/hooks/hooks.js';
import { ListKeyIndex } from '../../dist/k8s/list-keys.js';
import { createLogger } from '../../dist/logger.js';
import { DriftguardMetrics } from '../../dist/metrics/metrics.js';
import { observe } from '../../dist/observe/observer.js';
import { openRecordSink } from '../../dist/records/sink.js';

/** CPU time of `fn` run until `ms` of wall time have passed, per `unitsPerRun` units. */
async function cpuPer(fn, unitsPerRun, ms) {
  const warmUntil = performance.now() + Math.min(300, ms / 3);
  while (performance.now() < warmUntil) await fn();
  let runs = 0;
  const cpu = process.cpuUsage();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    await fn();
    runs++;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / (runs * unitsPerRun);
}

/**
 * Own work and parse, each in µs of CPU per review of a deck ({ body, path? }, path default
 * /validate), `batch` reviews judged together (the bench's connections: at most one review per
 * connection completes in a turn); each the least of `repeats` runs of `ms` (other processes on
 * the core only ever add to a run's figure, and this is meant as the least the work costs).
 */
export async function openOwnWork(set) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'driftguard-own-work-'));
  const logger = createLogger('warn');
  const clock = () => new Date();
  const records = await openRecordSink({ destination: path.join(dir, 'records.jsonl') });
  const metrics = new DriftguardMetrics({ registry: new Registry(), clock });
  const deps = {
    policies: () => set,
    parents: new ParentResolver({ logger }),
    records,
    clock,
    logger,
    listKeys: new ListKeyIndex(),
    hooks: fanOut(logger, [metrics.hooks()]),
  };
  const handlers = {
    '/validate': (request) => validate(request, deps),
    '/observe/entry': (request) => observe('entry', request, deps),
    '/observe/exit': (request) => observe('exit', request, deps),
  };
  return {
    async measure(bodies, { ms, batch, repeats = 3 }) {
      const calls = bodies.map((b) => {
        const handler = handlers[b.path ?? '/validate'];
        const parsed = parseReview(JSON.parse(b.body));
        if (handler === undefined || !parsed.ok) throw new Error(`own work: cannot judge a review for ${b.path ?? '/validate'}`);
        return { handler, request: parsed.request };
      });
      const judgeAll = async () => {
        for (let i = 0; i < calls.length; i += batch) {
          await Promise.all(calls.slice(i, i + batch).map((c) => c.handler(c.request)));
        }
      };
      const buffers = bodies.map((b) => Buffer.from(b.body));
      const parseAll = async () => {
        for (const b of buffers) JSON.parse(b.toString('utf8'));
      };
      let ownUs = Infinity;
      let parseUs = Infinity;
      for (let i = 0; i < repeats; i++) {
        ownUs = Math.min(ownUs, await cpuPer(judgeAll, calls.length, ms));
        parseUs = Math.min(parseUs, await cpuPer(parseAll, buffers.length, ms / 2));
      }
      return { ownUs, parseUs };
    },
    async close() {
      await records.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
