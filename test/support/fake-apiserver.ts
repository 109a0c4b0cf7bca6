/**
 * A small HTTPS server that answers like the Kubernetes API server for the calls driftguard makes,
 * with a kubeconfig file pointing at it (token auth, CA data). Routes are added per test.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCertificates } from '../../src/certs/generate.js';

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Route = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeApiServer {
  url: string;
  kubeconfig: string;
  token: string;
  seen: SeenRequest[];
  route(method: string, pathPattern: RegExp, handler: Route): void;
  close(): Promise<void>;
}

export function notFound(res: ServerResponse, what: string): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `${what} not found`,
      reason: 'NotFound',
      code: 404,
    }),
  );
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const certs = await generateCertificates({
    service: 'kubernetes',
    namespace: 'default',
    extraNames: ['127.0.0.1', 'localhost'],
    now: new Date(),
  });
  const routes: Array<{ method: string; re: RegExp; handler: Route }> = [];
  const seen: SeenRequest[] = [];
  const token = 'test-token-abc123';
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(s);
      if (req.headers.authorization !== `Bearer ${token}`) {
        json(res, 401, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 });
        return;
      }
      const r = routes.find((x) => x.method === s.method && x.re.test(s.path.split('?')[0]!));
      if (r === undefined) return notFound(res, s.path);
      void r.handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-kube-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${Buffer.from(certs.caCert).toString('base64')}`,
      'users:',
      '- name: driftguard',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: fake',
      '  context: {cluster: fake, user: driftguard}',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    url,
    kubeconfig,
    token,
    seen,
    route(method, re, handler) {
      routes.push({ method, re, handler });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
