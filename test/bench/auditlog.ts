/**
 * The audit log source's speed (printed, not gated; `npm run bench:auditlog`):
 * 1. `explain` over an audit log of 1 M generated events (10,000 Deployments, 100 events each, a
 *    quarter of them reads, a few failed writes), for one of them: wall time and peak RSS. Goal
 *    under 5 s, memory bounded (the file is streamed; only the object's own events are kept).
 * 2. `serve --audit-webhook`'s endpoint on this process's one thread: EventList batches of 400 (the
 *    API server's default batch size) posted over HTTPS with a bearer token, until every event is
 *    a record on disk: events a second, and events per CPU-second of this process (the posting
 *    client's share included, so a floor for the endpoint's own), which a loaded machine moves
 *    less than wall time. Goal 10,000/s.
 * Sizes: DG_BENCH_AUDIT_EVENTS (default 1000000), DG_BENCH_AUDIT_BATCHES (default 100).
 * DG_BENCH_AUDIT_LOG=FILE keeps the generated log there and reuses it when it exists (for profiling
 * runs: generating 1 M events takes longer than reading them); DG_BENCH_AUDIT_ONLY=explain or
 * webhook runs one part.
 */
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import pino from 'pino';
import { AuditConverter } from '../../src/auditlog/convert.js';
import { run } from '../../src/cli/main.js';
import { openRecordSink } from '../../src/records/sink.js';
import { startAuditWebhook } from '../../src/server/audit-webhook.js';
import { ensureCertDir } from '../../src/server/tls.js';

const EVENTS = Number(process.env.DG_BENCH_AUDIT_EVENTS ?? 1_000_000);
const BATCHES = Number(process.env.DG_BENCH_AUDIT_BATCHES ?? 100);
const OBJECTS = 10_000;
const T0 = Date.parse('2026-11-24T00:00:00Z');

function deployment(i: number, rv: number, replicas: number, image: string): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `app-${i}`,
      namespace: 'bench',
      uid: `uid-${i}`,
      resourceVersion: String(rv),
      labels: { 'app.kubernetes.io/name': `app-${i}`, 'app.kubernetes.io/instance': 'bench' },
      annotations: { 'argocd.argoproj.io/tracking-id': `bench:apps/Deployment:bench/app-${i}` },
    },
    spec: {
      replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': `app-${i}` } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': `app-${i}` } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
      },
    },
  };
}

const USERS = [
  { username: 'system:serviceaccount:argocd:argocd-application-controller', groups: ['system:serviceaccounts'] },
  { username: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler', groups: ['system:serviceaccounts'] },
  { username: 'oidc:jane@example.com', groups: ['oidc:developers'] },
];

/** The n-th event of the log: object n % OBJECTS, its (n / OBJECTS)-th event. */
function event(n: number): Record<string, unknown> {
  const i = n % OBJECTS;
  const k = Math.floor(n / OBJECTS);
  const verb = k === 0 ? 'create' : k % 4 === 1 ? 'get' : 'patch';
  const failed = verb === 'patch' && k % 17 === 0;
  const time = new Date(T0 + n * 10)
    .toISOString()
    .replace('Z', '000Z')
    .replace(/\.(\d{3})000Z$/, '.$1000Z');
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: `a-${n}`,
    stage: 'ResponseComplete',
    requestURI: `/apis/apps/v1/namespaces/bench/deployments/app-${i}?fieldManager=bench`,
    verb,
    user: USERS[k % 3],
    sourceIPs: ['127.0.0.1'],
    userAgent: 'bench',
    objectRef: { resource: 'deployments', namespace: 'bench', name: `app-${i}`, apiGroup: 'apps', apiVersion: 'v1' },
    responseStatus: failed
      ? { metadata: {}, status: 'Failure', reason: 'Conflict', code: 409 }
      : { metadata: {}, code: verb === 'create' ? 201 : 200 },
    ...(failed ? {} : { responseObject: deployment(i, 100 + k, 1 + (k % 7), `registry.example.com/app:${k % 5}`) }),
    requestReceivedTimestamp: time,
    stageTimestamp: time,
  };
}

async function writeLog(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  for (let n = 0; n < count; n++) {
    if (!out.write(`${JSON.stringify(event(n))}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

async function explainBench(dir: string): Promise<void> {
  const kept = process.env.DG_BENCH_AUDIT_LOG;
  const log = kept ?? path.join(dir, 'audit.log');
  if (kept === undefined || !existsSync(kept)) await writeLog(log, EVENTS);
  const size = statSync(log).size;
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const out = new PassThrough();
  let stdout = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const code = await run(['explain', 'deploy/app-4242', '-n', 'bench', '--audit-log', log, '-o', 'json'], {
    stdout: out,
    stderr: err,
    stdin: Readable.from([]),
    stdinKind: 'none',
    clock: () => new Date(T0 + 86_400_000),
    cwd: dir,
  });
  const ms = performance.now() - started;
  clearInterval(sampler);
  const x = JSON.parse(stdout);
  console.log(
    `explain over ${EVENTS.toLocaleString('en')} audit events (${(size / 1e9).toFixed(2)} GB): ${(ms / 1000).toFixed(2)} s, ` +
      `${x.writes} writes of the object, exit ${code}; RSS ${Math.round(before / 1e6)} MB before, peak ${Math.round(peak / 1e6)} MB (goal: < 5 s)`,
  );
  if (stderr !== '') console.log(`stderr: ${stderr.trim()}`);
  if (kept === undefined) rmSync(log);
}

function post(url: string, ca: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca, headers: { authorization: 'Bearer bench', 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function webhookBench(dir: string): Promise<void> {
  await ensureCertDir(dir, { service: 'driftguard', namespace: 'driftguard', now: new Date() });
  const recordsFile = path.join(dir, 'records.jsonl');
  const records = await openRecordSink({ destination: recordsFile });
  const hook = await startAuditWebhook({
    host: '127.0.0.1',
    port: 0,
    path: '/audit',
    cert: readFileSync(path.join(dir, 'tls.crt')),
    key: readFileSync(path.join(dir, 'tls.key')),
    token: 'bench',
    records,
    converter: new AuditConverter({ gitops: [] }),
    logger: pino({ level: 'silent' }),
    capacity: 1_000_000,
  });
  const ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  const bodies: Buffer[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const items = Array.from({ length: 400 }, (_, j) => event(b * 400 + j));
    bodies.push(Buffer.from(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items })));
  }
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let refused = 0;
  for (const body of bodies) {
    const code = await post(hook.url, ca, body);
    if (code !== 200) refused++;
  }
  const answered = performance.now() - started;
  await hook.close(60_000);
  await records.close();
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const events = BATCHES * 400;
  const lines = readFileSync(recordsFile, 'utf8').split('\n').length - 1;
  console.log(
    `audit webhook, one thread: ${events.toLocaleString('en')} events in ${BATCHES} batches answered in ${(answered / 1000).toFixed(2)} s, ` +
      `all recorded after ${(ms / 1000).toFixed(2)} s: ${Math.round(events / (ms / 1000)).toLocaleString('en')} events/s ` +
      `(${lines} records, ${refused} batches refused; goal 10,000/s); CPU ${cpuS.toFixed(2)} s for client and server together: ` +
      `${Math.round(events / cpuS).toLocaleString('en')} events per CPU-second`,
  );
}

const dir = mkdtempSync(path.join(tmpdir(), 'dg-bench-audit-'));
try {
  const only = process.env.DG_BENCH_AUDIT_ONLY;
  if (only !== 'webhook') await explainBench(dir);
  if (only !== 'explain') await webhookBench(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
