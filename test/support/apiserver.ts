/**
 * A small HTTPS server on loopback that answers like the Kubernetes API server for the calls
 * driftguard makes, with a generated CA and a kubeconfig that trusts it and carries a bearer token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCertificates } from '../../src/certs/generate.js';

export interface FakeApiServer {
  url: string;
  kubeconfig: string;
  /** Requests seen: method, path, authorization header. */
  seen: Array<{ method: string; path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export type Route = (req: { method: string; path: string }) => { status: number; body: unknown } | undefined;

export const TOKEN = 'test-token-0f1e2d';

export async function startFakeApiServer(route: Route): Promise<FakeApiServer> {
  const certs = await generateCertificates({ service: 'kubernetes', namespace: 'default', extraNames: ['127.0.0.1'], now: new Date() });
  const seen: FakeApiServer['seen'] = [];
  const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const p = (req.url ?? '').split('?')[0]!;
    seen.push({ method: req.method ?? '', path: p, authorization: req.headers.authorization });
    let answer = req.headers.authorization === `Bearer ${TOKEN}` ? route({ method: req.method ?? '', path: p }) : { status: 401, body: { kind: 'Status', status: 'Failure', message: 'Unauthorized', code: 401 } };
    answer ??= { status: 404, body: { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
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
      '- name: test',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${Buffer.from(certs.caCert).toString('base64')}`,
      'users:',
      '- name: tester',
      '  user:',
      `    token: ${TOKEN}`,
      'contexts:',
      '- name: test',
      '  context: {cluster: test, user: tester}',
      'current-context: test',
      '',
    ].join('\n'),
  );
  return {
    url,
    kubeconfig,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
