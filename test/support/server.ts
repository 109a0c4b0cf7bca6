/**
 * A real driftguard server for tests: HTTPS on an ephemeral port with a generated CA, real policy
 * files, a real records file in a temp dir.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { DEFAULT_TIMEOUTS, startServer, type RunningServer, type ServeConfig, type ServeDeps } from '../../src/serve.js';
import { ensureCertDir } from '../../src/server/tls.js';
import { postJson, type HttpResult } from './https.js';
import { SAMPLE_POLICIES } from './fixtures.js';

export interface TestServer {
  running: RunningServer;
  url: string;
  ca: string;
  dir: string;
  recordsFile: string;
  review(body: unknown, route?: string): Promise<HttpResult>;
  /** Parsed record lines written so far (flushes first). */
  records(): any[];
  close(): Promise<void>;
}

export async function startTestServer(
  opts: { policies?: string[]; config?: Partial<ServeConfig>; deps?: Partial<ServeDeps>; now?: () => Date } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-test-'));
  const recordsFile = path.join(dir, 'records', 'driftguard.jsonl');
  const config: ServeConfig = {
    host: '127.0.0.1',
    port: 0,
    policies: opts.policies ?? [SAMPLE_POLICIES],
    certDir: path.join(dir, 'certs'),
    records: recordsFile,
    service: 'driftguard',
    namespace: 'driftguard',
    timeouts: DEFAULT_TIMEOUTS,
    shutdownGraceMs: 2_000,
    ...opts.config,
  };
  // The certificate follows the real clock (the TLS client checks it against real time); the
  // admission clock below may be any scripted time.
  if (config.tlsCert === undefined)
    await ensureCertDir(config.certDir, { service: config.service, namespace: config.namespace, now: new Date() });
  const running = await startServer(config, {
    logger: pino({ level: 'silent' }),
    // Real time by default: the generated certificate must be valid for the TLS handshake now.
    clock: opts.now ?? (() => new Date()),
    ...opts.deps,
  });
  const ca = readFileSync(path.join(config.certDir, 'ca.crt'), 'utf8');
  return {
    running,
    url: running.url,
    ca,
    dir,
    recordsFile,
    review: (body, route = '/validate') => postJson(`${running.url}${route}`, body, { ca }),
    records() {
      running.records.flushSync();
      if (!existsSync(recordsFile)) return [];
      return readFileSync(recordsFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l));
    },
    close: () => running.shutdown(),
  };
}
