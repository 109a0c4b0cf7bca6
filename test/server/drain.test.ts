/**
 * The in-flight registry behind a graceful stop (src/server/drain.ts): responses are counted while
 * open, their slots are reused once they close, and a drain marks every response still unanswered
 * with Connection: close.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drainable, type Drainer } from '../../src/server/drain.js';

interface Held {
  server: http.Server;
  drainer: Drainer;
  port: number;
  /** Responses the handler has not answered yet, in arrival order. */
  held: http.ServerResponse[];
  agent: http.Agent;
}

let current: Held | undefined;

async function start(): Promise<Held> {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('now');
  });
  const drainer = drainable(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  current = { server, drainer, port: (server.address() as AddressInfo).port, held, agent: new http.Agent({ keepAlive: true }) };
  return current;
}

afterEach(async () => {
  if (current === undefined) return;
  current.agent.destroy();
  current.server.closeAllConnections();
  await new Promise((resolve) => current!.server.close(resolve));
  current = undefined;
});

function get(h: Held, path: string): Promise<{ body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: h.port, path, agent: h.agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ body, connection: res.headers.connection }));
      })
      .on('error', reject);
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('drainable', () => {
  it('counts the responses in flight, and frees each one when it closes, over many reused slots', async () => {
    const h = await start();
    const answers = [get(h, '/hold'), get(h, '/hold'), get(h, '/hold')];
    await until(() => h.held.length === 3);
    expect(h.drainer.inFlight()).toBe(3);
    h.held[1]!.end('one');
    await answers[1];
    await until(() => h.drainer.inFlight() === 2);
    // Many more requests come and go through the freed slots while two stay open.
    for (let i = 0; i < 200; i++) expect((await get(h, '/now')).body).toBe('now');
    expect(h.drainer.inFlight()).toBe(2);
    h.held[0]!.end('zero');
    h.held[2]!.end('two');
    expect((await Promise.all(answers)).map((a) => a.body)).toEqual(['zero', 'one', 'two']);
    await until(() => h.drainer.inFlight() === 0);
  });

  it('on drain, answers every response still open with Connection: close, and only those', async () => {
    const h = await start();
    const early = get(h, '/hold');
    await until(() => h.held.length === 1);
    h.held[0]!.end('before');
    expect((await early).connection).toBe('keep-alive');
    const late = [get(h, '/hold'), get(h, '/hold')];
    await until(() => h.held.length === 3);
    const drained = h.drainer.drain(5_000);
    h.held[1]!.end('a');
    h.held[2]!.end('b');
    const answers = await Promise.all(late);
    expect(answers).toEqual([
      { body: 'a', connection: 'close' },
      { body: 'b', connection: 'close' },
    ]);
    await drained;
    expect(h.drainer.inFlight()).toBe(0);
  });
});
