/**
 * A local webhook receiver (plain HTTP on loopback): records every POST and answers as told, per
 * request: 200, an error status (with optional Retry-After), or nothing at all (hang).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Answer = { status: number; retryAfter?: string } | 'hang';

interface Received {
  path: string;
  contentType: string | undefined;
  body: any;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  answer: (n: number) => Answer;
  close(): Promise<void>;
}

export async function startReceiver(answer: (n: number) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const hanging = new Set<http.ServerResponse>();
  const r: Receiver = {
    url: '',
    received,
    answer,
    close: () =>
      new Promise((resolve) => {
        for (const h of hanging) h.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        at: performance.now(),
      });
      const a = r.answer(received.length);
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res
        .writeHead(a.status, { 'content-type': 'text/plain', ...(a.retryAfter === undefined ? {} : { 'retry-after': a.retryAfter }) })
        .end(a.status < 300 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/XXXXsecretXXXX`;
  return r;
}
