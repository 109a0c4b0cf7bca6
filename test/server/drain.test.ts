/**
 * The in-flight registry behind a graceful stop (src/server/drain.ts): responses are counted while
 * open, their slots are reused once they close, and a drain marks every response still unanswered
 * with Connection: close, closes idle connections at once, and still lets a slow request finish.
 * What the real API server's connection pool makes of it is in test/e2e/shutdown.test.ts.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { drainable, QUIET_MS, type Drainer } from '../../src/server/drain.js';
import { pki } from '../support/pki.js';

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

describe('drainable over HTTPS, with connections held the way a client pool holds them', () => {
  it('closes an idle keep-alive connection and one that never sent a request at once, and lets a slow request finish', async () => {
    const { ca, serving } = await pki();
    let release: (() => void) | undefined;
    const server = https.createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
      if (req.url === '/slow') release = () => res.end('slow done');
      else res.end('now');
    });
    const drainer = drainable(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const agent = new https.Agent({ keepAlive: true, ca: ca.cert });
    const sockets: tls.TLSSocket[] = [];
    const get = (path: string, via: https.Agent | false) =>
      new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path, agent: via, ca: ca.cert }, (res) => {
            sockets.push(res.socket as tls.TLSSocket);
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ body, connection: res.headers.connection }));
          })
          .on('error', reject);
      });
    try {
      // An idle keep-alive connection: one request answered, the socket kept in the agent's pool.
      expect(await get('/now', agent)).toEqual({ body: 'now', connection: 'keep-alive' });
      const idle = sockets[0]!;
      const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
      // A connection a pool dialed and never used: handshake done, not a byte of request.
      const unused = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => unused.once('secureConnect', resolve).once('error', reject));
      const unusedClosed = new Promise<void>((resolve) => unused.once('close', () => resolve()));
      // A request in flight when the drain begins (on a connection of its own), answered 400 ms into it.
      const slow = get('/slow', false);
      await until(() => release !== undefined);
      await new Promise((r) => setTimeout(r, QUIET_MS));
      const t0 = performance.now();
      let drained = false;
      const drain = drainer.drain(20_000).then(() => (drained = true));
      await Promise.all([idleClosed, unusedClosed]);
      // At once, not at the grace: the bound leaves room for a loaded machine.
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(drained).toBe(false);
      setTimeout(() => release!(), 400);
      expect(await slow).toEqual({ body: 'slow done', connection: 'close' });
      await drain;
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(390);
      expect(took).toBeLessThan(6_000);
      // The slow response's slot is freed on its 'close', which Node may emit a tick after the last
      // socket closed (server.close's callback): within the helper's two seconds, not never.
      await until(() => drainer.inFlight() === 0);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
