/**
 * A small HTTPS server (its own CA, like a cluster's) that answers the Events calls as the Kubernetes API server does: POST
 * /api/v1/namespaces/NS/events -> 201 with the stored object (409 AlreadyExists for a taken name),
 * PATCH .../events/NAME with a JSON merge patch -> 200 (404 NotFound when there is none, 415 for
 * another content type), errors as metav1.Status. `mode` makes it fail or hang instead.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { generateCertificates, type GeneratedCertificates } from '../../src/certs/generate.js';
import { fixturePath } from './fixtures.js';

let certs: Promise<GeneratedCertificates> | undefined;

export type Mode = 'ok' | 'fail' | 'hang' | 'forbidden';

export interface SeenRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: any;
  at: number;
}

export interface FakeApiServer {
  url: string;
  requests: SeenRequest[];
  /** Stored Events by namespace/name. */
  events: Map<string, any>;
  mode: Mode | ((req: SeenRequest) => Mode);
  /** A kubeconfig file (in `dir`) pointing at this server. */
  kubeconfig(dir: string): string;
  close(): Promise<void>;
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const requests: SeenRequest[] = [];
  const events = new Map<string, any>();
  const hanging = new Set<http.ServerResponse>();
  let rv = 1000;
  certs ??= generateCertificates({ service: 'kubernetes', namespace: 'default', extraNames: ['127.0.0.1', 'localhost'], now: new Date() });
  const tls = await certs;
  const fake: FakeApiServer = {
    url: '',
    requests,
    events,
    mode: 'ok',
    kubeconfig(dir) {
      const file = path.join(dir, 'kubeconfig.yaml');
      const text = readFileSync(fixturePath('kube', 'kubeconfig.yaml'), 'utf8')
        .replace('https://127.0.0.1:PORT', fake.url)
        .replace('CA_DATA', Buffer.from(tls.caCert).toString('base64'));
      writeFileSync(file, text);
      return file;
    },
    close: () =>
      new Promise((resolve) => {
        for (const r of hanging) r.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body: text === '' ? undefined : JSON.parse(text),
        at: performance.now(),
      };
      requests.push(seen);
      const mode = typeof fake.mode === 'function' ? fake.mode(seen) : fake.mode;
      if (mode === 'hang') {
        hanging.add(res);
        return;
      }
      if (mode === 'fail') return status(res, 500, 'InternalError', 'etcdserver: request timed out');
      if (mode === 'forbidden') return status(res, 403, 'Forbidden', 'events is forbidden: User "system:serviceaccount:driftguard:driftguard" cannot create resource "events"');
      const create = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(seen.path);
      const update = /^\/api\/v1\/namespaces\/([^/]+)\/events\/([^/]+)$/.exec(seen.path);
      if (seen.method === 'POST' && create !== null) {
        const ns = decodeURIComponent(create[1]!);
        const name = seen.body?.metadata?.name;
        if (seen.body?.kind !== 'Event' || typeof name !== 'string') return status(res, 422, 'Invalid', 'Event is invalid');
        if (events.has(`${ns}/${name}`)) return status(res, 409, 'AlreadyExists', `events "${name}" already exists`);
        const stored = { ...seen.body, metadata: { ...seen.body.metadata, namespace: ns, uid: randomUUID(), resourceVersion: String(rv++) } };
        events.set(`${ns}/${name}`, stored);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(stored));
        return;
      }
      if (seen.method === 'PATCH' && update !== null) {
        if (seen.contentType !== 'application/merge-patch+json') return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        const key = `${decodeURIComponent(update[1]!)}/${decodeURIComponent(update[2]!)}`;
        const current = events.get(key);
        if (current === undefined) return status(res, 404, 'NotFound', `events "${update[2]}" not found`);
        const merged = { ...current, ...seen.body, metadata: { ...current.metadata, resourceVersion: String(rv++) } };
        events.set(key, merged);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(merged));
        return;
      }
      status(res, 404, 'NotFound', 'the server could not find the requested resource');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
