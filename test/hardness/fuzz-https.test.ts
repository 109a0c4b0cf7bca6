/**
 * >= 1,000 hostile bodies through the real server (startServer: HTTPS with a generated CA, the
 * sample policies, a records file on disk), spread over the validating route and the change
 * ledger's observer routes; then the server still answers a real review and every record line is
 * whole JSON.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBSERVER_ROUTES } from '../../src/observe/observer.js';
import { RECORD_SCHEMA } from '../../src/records/record.js';
import { createClient, type Client } from '../support/client.js';
import { readJson } from '../support/fixtures.js';
import { request } from '../support/https.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { hostileCase, judgeAnswer, polluted } from './hostile.js';

const RUNS = 1_200;
const ROUTES = ['/validate', '/validate', OBSERVER_ROUTES.entry, OBSERVER_ROUTES.exit];

let server: TestServer;
let client: Client;

beforeAll(async () => {
  server = await startTestServer();
  client = createClient(server.url, { ca: server.ca, maxSockets: 1, timeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

describe('hostile bodies through the HTTPS server', () => {
  it(`answers ${RUNS} generated bodies correctly and keeps serving`, async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(hostileCase, async (c) => {
        const route = ROUTES[sent++ % ROUTES.length]!;
        const out = await client.post(route, c.body, c.headers);
        if (!out.ok) throw new Error(`${route} ${c.label}: no answer (${out.error})`);
        const problem = judgeAnswer(c, out.answer);
        if (problem !== undefined) throw new Error(`${route} ${c.label}: ${problem}`);
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 11), endOnFailure: true },
    );
    expect(polluted()).toEqual([]);

    // Still healthy, still judging: a person's edit of an Argo CD Deployment is denied and recorded.
    expect((await request(`${server.url}/healthz`, { ca: server.ca, method: 'GET' })).status).toBe(200);
    const edit = readJson<any>('reviews', 'kubectl-edit-prod.json');
    edit.request.uid = 'after-the-fuzz';
    const res = await server.review(edit);
    expect(res.json.response).toMatchObject({ uid: 'after-the-fuzz', allowed: false, status: { code: 403 } });

    await server.close(); // records flushed and closed before reading
    const lines = readFileSync(server.recordsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(10);
    const records = lines.map((l) => JSON.parse(l));
    for (const r of records) expect(r.schema).toBe(RECORD_SCHEMA);
    expect(records.at(-1)).toMatchObject({ uid: 'after-the-fuzz', decision: 'denied' });
  }, 60_000);
});
