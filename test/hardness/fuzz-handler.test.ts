/**
 * >= 10,000 hostile bodies through the whole HTTP adapter (createAdapter + the validating handler,
 * the same wiring as serve.ts) over plain in-process HTTP servers running the adapter's listener
 * (what serve.ts runs), two connections taking turns: no crash, no hang, every answer a
 * valid AdmissionReview echoing the uid or a 4xx JSON error with a DG_* code, no prototype
 * pollution, no handler failure logged, and every record line written is whole JSON.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/admission/handler.js';
import { ParentResolver } from '../../src/cluster/parents.js';
import { loadPolicies } from '../../src/policy/load.js';
import { RECORD_SCHEMA } from '../../src/records/record.js';
import { openRecordSink, type RecordSink } from '../../src/records/sink.js';
import { createAdapter } from '../../src/server/app.js';
import { createClient, type Client } from '../support/client.js';
import { SAMPLE_POLICIES } from '../support/fixtures.js';
import { hostileCase, judgeAnswer, polluted, prototypeSnapshot } from './hostile.js';

const RUNS = 10_000;

const KINDS: [string, RegExp][] = [
  ['truncated JSON', /truncated/],
  ['wrong types', /wrong type/],
  ['null object on UPDATE', /UPDATE with/],
  ['missing userInfo', /userInfo/],
  ['huge arrays', /huge array/],
  ['deep nesting', /nesting/],
  ['__proto__ / constructor keys', /__proto__/],
  ['not a review at all', /random|literal/],
  ['odd headers', /headers/],
];

const servers: http.Server[] = [];
const clients: Client[] = [];
let records: RecordSink;
let recordsFile: string;
let closed = false;
const logged: { level: number; msg: string }[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-fuzz-'));
  recordsFile = path.join(dir, 'records.jsonl');
  records = await openRecordSink({ destination: recordsFile });
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const policies = await loadPolicies([SAMPLE_POLICIES]);
  const deps = { policies: () => policies, parents: new ParentResolver(), records, clock: () => new Date('2026-11-24T12:00:00Z'), logger };
  const adapter = createAdapter({
    logger,
    ready: () => true,
    reviewRoutes: { '/validate': async (r) => (await validate(r, deps)).response },
  });
  for (const listener of [adapter.listener, adapter.listener]) {
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    clients.push(createClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { maxSockets: 1, timeoutMs: 5_000 }));
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  if (!closed) await records?.close();
});

describe('hostile bodies through the HTTP adapter', () => {
  it(`answers ${RUNS} generated bodies correctly and stays unpolluted`, async () => {
    const before = prototypeSnapshot();
    let reviews = 0;
    let sent = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostileCase, async (c) => {
        const out = await clients[sent++ % 2]!.post('/validate', c.body, c.headers);
        if (!out.ok) throw new Error(`${c.label}: no answer (${out.error})`);
        const problem = judgeAnswer(c, out.answer);
        if (problem !== undefined) throw new Error(`${c.label}: ${problem}`);
        if (out.answer.status === 200) reviews++;
        for (const [kind, re] of KINDS) if (re.test(c.label)) seen.set(kind, (seen.get(kind) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 7), endOnFailure: true },
    );
    expect(prototypeSnapshot()).toBe(before);
    expect(polluted()).toEqual([]);
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
    // The mix is not all rejects: a good share are reviews judged by the engine.
    expect(reviews).toBeGreaterThan(RUNS / 4);
    // Every kind of hostility the issue lists was actually sent, a good number of times.
    for (const [kind] of KINDS) expect(seen.get(kind) ?? 0, kind).toBeGreaterThanOrEqual(40);

    await records.close(); // every write on disk before reading
    closed = true;
    const lines = readFileSync(recordsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) expect(JSON.parse(line).schema).toBe(RECORD_SCHEMA);
  }, 120_000);
});
