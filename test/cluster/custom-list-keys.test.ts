/**
 * Custom resources' list keys are loaded off the request path: while the API server's /openapi/v3
 * hangs or answers garbage, reviews are answered at once (built-in kinds still by key) and nothing
 * crashes. A small fake API server stands in, because a real one cannot be made to hang or to send
 * a malformed OpenAPI index; the real one is test/e2e/list-keys.test.ts.
 */
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { edited, object } from '../support/fixtures.js';
import { jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';

function fakeApiServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    answer(req, res);
  });
  return { server, seen };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-kubeconfig-'));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: c, context: {cluster: fake, user: u}}]',
      'current-context: c',
      '',
    ].join('\n'),
  );
  return file;
}

const sidecarFirst = () => {
  const old = object('deployment-prod-web');
  return buildReview({
    operation: 'UPDATE',
    userInfo: jane(),
    oldObject: old,
    object: edited(old, (o: any) => o.spec.template.spec.containers.unshift({ name: 'proxy', image: 'proxy:1' })),
  });
};

describe.each([
  ['hangs', (_req: http.IncomingMessage, _res: http.ServerResponse) => undefined],
  [
    'answers garbage',
    (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"paths": 7'),
  ],
])('an API server whose /openapi/v3 %s', (_name, answer) => {
  const fake = fakeApiServer(answer);
  let dg: TestServer;

  beforeAll(async () => {
    const kubeconfig = await listen(fake.server);
    dg = await startTestServer({ config: { cluster: kubeconfig, monitoring: { events: false } } });
  });
  afterAll(async () => {
    await dg?.close();
    fake.server.closeAllConnections();
    await new Promise((r) => fake.server.close(r));
  });

  it('never holds a review: it is answered at once, built-in kinds by key', async () => {
    // The load started at startup and is now in flight (hanging) or failed.
    for (let i = 0; i < 100 && !fake.seen.includes('/openapi/v3'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fake.seen).toContain('/openapi/v3');
    const review = sidecarFirst();
    const started = Date.now();
    const res = await dg.review(review);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.json.response.uid).toBe(review.request.uid);
    expect(res.json.response.allowed).toBe(false);
    expect(res.json.response.status.message).toContain('/spec/template/spec/containers[name=proxy]/name');
    expect(res.json.response.status.message).not.toContain('[name=web]');
    expect(dg.running.listKeys.customKinds()).toBe(0);
  });
});
