/**
 * Slow and hostile clients are cut off by the server's timeouts, and other requests are served
 * meanwhile. The timeouts are shortened for the test (ServeConfig.timeouts); the defaults are
 * 10 s for headers and 30 s for a whole request.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../support/client.js';
import { readJson } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const HEADERS_MS = 500;
const REQUEST_MS = 1_500;

let server: TestServer;
let client: Client;

beforeAll(async () => {
  server = await startTestServer({ config: { timeouts: { headersMs: HEADERS_MS, requestMs: REQUEST_MS, keepAliveMs: 5_000 } } });
  client = createClient(server.url, { ca: server.ca, maxSockets: 5, timeoutMs: 5_000 });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

interface Held {
  /** How long the server let the connection live. */
  ms: number;
  /** What the server sent before closing. */
  received: string;
}

type Attack = 'headers' | 'body' | 'no-handshake';

/**
 * Open a connection and misbehave until the server closes it (or `giveUpMs` passes, which fails
 * the expectations below): 'headers' dribbles an endless header line, 'body' announces a real
 * review's length and sends it one byte every 50 ms, 'no-handshake' connects and never starts TLS.
 */
function attack(kind: Attack, giveUpMs = 10_000): Promise<Held> {
  const body = JSON.stringify(readJson('reviews', 'kubectl-edit-prod.json'));
  return new Promise((resolve) => {
    const started = performance.now();
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const sock: net.Socket =
      kind === 'no-handshake'
        ? net.connect(server.running.port, '127.0.0.1')
        : tls.connect({ host: '127.0.0.1', port: server.running.port, ca: server.ca, servername: 'localhost' }, () => {
            const tlsSock = sock as tls.TLSSocket;
            if (kind === 'headers') {
              tlsSock.write('POST /validate HTTP/1.1\r\nHost: driftguard\r\nX-Slow: ');
              timer = setInterval(() => tlsSock.write('a'), 50);
            } else {
              tlsSock.write(
                `POST /validate HTTP/1.1\r\nHost: driftguard\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
              );
              let i = 0;
              timer = setInterval(() => tlsSock.write(body[i++] ?? ' '), 50);
            }
          });
    const giveUp = setTimeout(() => sock.destroy(), giveUpMs);
    sock.on('data', (d: Buffer) => (received += d.toString('utf8')));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ ms: performance.now() - started, received });
    });
  });
}

describe('slow and hostile clients', () => {
  it('cuts off a client that never finishes its headers, at the headers timeout', async () => {
    const held = await attack('headers');
    expect(held.ms).toBeGreaterThanOrEqual(HEADERS_MS - 50);
    expect(held.ms).toBeLessThan(HEADERS_MS + 2_000);
    expect(held.received).not.toContain('AdmissionReview');
  });

  it('cuts off a body dribbled byte by byte, at the request timeout, without judging or recording it', async () => {
    const before = server.records().length;
    const held = await attack('body');
    expect(held.ms).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(held.ms).toBeLessThan(REQUEST_MS + 2_000);
    expect(held.received).not.toContain('AdmissionReview');
    expect(server.records()).toHaveLength(before);
  });

  it('cuts off a connection that never starts its TLS handshake', async () => {
    const held = await attack('no-handshake');
    expect(held.ms).toBeLessThan(HEADERS_MS + 2_000);
  });

  it('serves other reviews promptly while 40 slow clients hold connections', async () => {
    const attackers = [
      ...Array.from({ length: 25 }, () => attack('headers')),
      ...Array.from({ length: 10 }, () => attack('body')),
      ...Array.from({ length: 5 }, () => attack('no-handshake')),
    ];
    let attacking = true;
    const done = Promise.all(attackers).finally(() => (attacking = false));

    const review = readJson<any>('reviews', 'kubectl-edit-prod.json');
    const latencies: number[] = [];
    let n = 0;
    const worker = async (): Promise<void> => {
      while (attacking) {
        review.request.uid = `meanwhile-${n++}`;
        const uid = review.request.uid;
        const out = await client.post('/validate', JSON.stringify(review));
        expect(out.ok).toBe(true);
        if (!out.ok) return;
        expect(out.answer.status).toBe(200);
        expect(JSON.parse(out.answer.text).response).toMatchObject({ uid, allowed: false });
        latencies.push(out.ms);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    const held = await done;

    // Every attacker was cut within its timeout (plus the checking interval and a loaded machine).
    for (const h of held) expect(h.ms).toBeLessThan(REQUEST_MS + 2_000);
    // The others were served all along: many reviews, none kept waiting.
    expect(latencies.length).toBeGreaterThan(50);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });
});
