/**
 * `npm run bench`: driftguard against the floor, on loopback HTTPS, in one run.
 *
 * 1. engine only: evaluations/s of the ~9 KB Deployment UPDATE against the 20 policies in
 *    test/bench/policies (no HTTP, no JSON parsing);
 * 2. the floor (floor.mjs: bare node:https, parse, answer allowed) under autocannon;
 * 3. driftguard from dist/ (`node dist/cli.js serve`, 20 policies, records to a file) under the
 *    same load, after checking that it judges every kind of review in the mix as expected;
 * 4. start to ready: spawn to the first 200 from /readyz, median of 5, of driftguard and of the
 *    floor (its ratio to the floor's is the target).
 * Each server is pinned to core 0 with taskset when it exists; the load generator to core 1.
 * Prints req/s, p50, p99, peak RSS, the ratio driftguard/floor and the targets, and writes the
 * figures to .bench/latest.json. Not a CI gate: it always exits 0 unless something broke.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3), BENCH_CONNECTIONS
 * (default 10), BENCH_ENGINE_MS (default 3000).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { parseReview } from '../../dist/admission/review.js';
import { generateCertificates } from '../../dist/certs/generate.js';
import { decide } from '../../dist/engine/decision.js';
import { evaluate } from '../../dist/engine/evaluate.js';
import { loadPolicies } from '../../dist/policy/load.js';
import { deck, mix } from './reviews.mjs';

const REPO = path.resolve(import.meta.dirname, '../..');
const POLICIES = path.join(REPO, 'test/bench/policies');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ENGINE_MS = Number(process.env.BENCH_ENGINE_MS ?? 3000);
const TARGETS = { ratio: 0.8, p99Ms: 5, engine: 50_000, rssMb: 150, readyMs: 1000, readyRatio: 3 };

const hasTaskset = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' });
    return os.availableParallelism() >= 2;
  } catch {
    return false;
  }
})();

function log(line = '') {
  process.stdout.write(`${line}\n`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Spawn a server pinned to core 0; resolves once GET /readyz answers 200, with the time it took. */
async function startPinned(args, port) {
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const argv = hasTaskset ? ['-c', '0', process.execPath, ...args] : args;
  const started = performance.now();
  const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)));
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`server exited before it was ready: ${stderr}`);
    if ((await readyz(port)) === 200) break;
    if (performance.now() - started > 20_000) throw new Error(`server not ready after 20 s: ${stderr}`);
    await sleep(5);
  }
  return { child, exited, readyMs: performance.now() - started, stderr: () => stderr };
}

function readyz(port) {
  return new Promise((resolve) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

function post(port, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Peak and current RSS of a process, in MB, from /proc (Linux). */
function rss(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
  } catch {
    return { peak: NaN, now: NaN };
  }
}

/** CPU time a process has used (user + system), in ms, from /proc (Linux; 100 ticks/s). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** autocannon over the deck; latencies kept at full precision (autocannon's histogram is whole ms). */
function cannon(port, bodies, seconds) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const statuses = new Map();
    const instance = autocannon(
      {
        url: `https://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: bodies.map((b) => ({ method: 'POST', path: '/validate', headers: { 'content-type': 'application/json' }, body: b.body })),
      },
      (err, result) => {
        if (err) return reject(err);
        latencies.sort((a, b) => a - b);
        resolve({
          rps: result.requests.total / result.duration,
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          requests: result.requests.total,
          errors: result.errors + result.timeouts + result.non2xx,
          statuses: Object.fromEntries(statuses),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  });
}

/** Load the server: warm up, then measure, sampling RSS meanwhile. */
async function measure(name, server, port, bodies) {
  await cannon(port, bodies, WARMUP);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(server.child.pid).now)), 200);
  const cpuBefore = cpuMs(server.child.pid);
  const r = await cannon(port, bodies, DURATION);
  const cpuUsPerRequest = ((cpuMs(server.child.pid) - cpuBefore) * 1000) / r.requests;
  clearInterval(sampler);
  const mem = rss(server.child.pid);
  // What one core could serve if the server had it to itself: unlike req/s, this hardly moves when
  // other processes share the machine.
  return { name, ...r, cpuUsPerRequest, perCoreRps: 1e6 / cpuUsPerRequest, rssMb: Math.max(peak, mem.now), rssPeakSinceStartMb: mem.peak };
}

async function stop(server) {
  server.child.kill('SIGTERM');
  return server.exited;
}

/**
 * Evaluations per second of one request, by wall clock and by this process's CPU time: on a
 * machine shared with other work the wall figure drops with the load, the CPU figure much less.
 */
function engineBench(set, request, ms) {
  const now = Date.parse('2026-11-24T12:00:00Z');
  const run = (until) => {
    let n = 0;
    while (performance.now() < until) {
      for (let i = 0; i < 50; i++) decide(evaluate(set, { request, now }));
      n += 50;
    }
    return n;
  };
  run(performance.now() + Math.min(500, ms / 4)); // warm the JIT
  const started = performance.now();
  const cpu = process.cpuUsage();
  const n = run(started + ms);
  const used = process.cpuUsage(cpu);
  return { wall: n / ((performance.now() - started) / 1000), cpu: n / ((used.user + used.system) / 1e6) };
}

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const verdict = (ok) => (ok ? 'met' : 'MISSED');

async function main() {
  const cores = os.availableParallelism();
  if (hasTaskset) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const loadBefore = os.loadavg();
  const work = mkdtempSync(path.join(os.tmpdir(), 'driftguard-bench-'));
  const certs = await generateCertificates({
    service: 'driftguard',
    namespace: 'driftguard',
    extraNames: ['localhost', '127.0.0.1'],
    now: new Date(),
  });
  const certFile = path.join(work, 'tls.crt');
  const keyFile = path.join(work, 'tls.key');
  writeFileSync(certFile, certs.cert);
  writeFileSync(keyFile, certs.key);
  const bodies = deck();
  const sizes = bodies.map((b) => Buffer.byteLength(b.body)).sort((a, b) => a - b);

  log(
    `driftguard benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`,
  );
  log(
    `pinning: ${hasTaskset ? 'each server on core 0, load generator on core 1 (taskset)' : 'none (no taskset)'}; load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  log(
    `load: autocannon, ${CONNECTIONS} connections, ${WARMUP} s warm-up + ${DURATION} s; deck of ${bodies.length} reviews, ${mix().length} kinds, bodies ${fmt(sizes[0] / 1024, 1)}–${fmt(sizes.at(-1) / 1024, 1)} KB (median ${fmt(percentile(sizes, 50) / 1024, 1)} KB)`,
  );
  log();

  // 1. Engine only.
  const set = await loadPolicies([POLICIES]);
  const review = (name) => parseReview(JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/reviews', `${name}.json`), 'utf8'))).request;
  const engineDenied = engineBench(set, review('kubectl-edit-prod'), ENGINE_MS);
  const engineGitOps = engineBench(set, review('argocd-update-prod'), ENGINE_MS / 2);
  log(`engine (${set.policies.length} policies, 9 KB Deployment UPDATE), evaluations/s by CPU time (wall):`);
  log(
    `  a person's edit (diffed, denied) ${fmt(engineDenied.cpu)} (${fmt(engineDenied.wall)}); Argo CD's update (allowed) ${fmt(engineGitOps.cpu)} (${fmt(engineGitOps.wall)})`,
  );

  // 2. The floor.
  const floorPort = await freePort();
  const floor = await startPinned([path.join(REPO, 'test/bench/floor.mjs'), certFile, keyFile, String(floorPort)], floorPort);
  const floorResult = await measure('floor (node:https)', floor, floorPort, bodies);
  await stop(floor);

  // 3. driftguard, production build.
  const dgPort = await freePort();
  const recordsFile = path.join(work, 'records.jsonl');
  const serveArgs = [
    path.join(REPO, 'dist/cli.js'),
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(dgPort),
    '--tls-cert',
    certFile,
    '--tls-key',
    keyFile,
    '--policies',
    POLICIES,
    '--records',
    recordsFile,
    '--log-level',
    'warn',
  ];
  const dg = await startPinned(serveArgs, dgPort);
  for (const [name, , r, expected] of mix()) {
    const res = await post(dgPort, JSON.stringify(r));
    if (res.status !== 200 || res.json.response.allowed !== expected) {
      throw new Error(`the mix is not judged as expected: "${name}" answered ${res.status} allowed=${res.json.response?.allowed}`);
    }
  }
  const dgResult = await measure('driftguard', dg, dgPort, bodies);
  const exit = await stop(dg);
  const recordLines = readFileSync(recordsFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '').length;

  // 4. Start to ready, median of 5 (each start a fresh process; certificates already on disk), of
  // driftguard and of the floor, started alternately so both see the same load on the machine.
  const readies = [];
  const floorReadies = [];
  for (let i = 0; i < 5; i++) {
    const floorAt = await freePort();
    const f = await startPinned([path.join(REPO, 'test/bench/floor.mjs'), certFile, keyFile, String(floorAt)], floorAt);
    floorReadies.push(f.readyMs);
    await stop(f);
    const port = await freePort();
    const s = await startPinned([...serveArgs.slice(0, 5), String(port), ...serveArgs.slice(6)], port);
    readies.push(s.readyMs);
    await stop(s);
  }
  readies.sort((a, b) => a - b);
  floorReadies.sort((a, b) => a - b);
  const readyMs = readies[2];
  const floorReadyMs = floorReadies[2];
  const readyRatio = readyMs / floorReadyMs;

  const loadAfter = os.loadavg();
  const ratio = dgResult.rps / floorResult.rps;
  const cpuRatio = floorResult.cpuUsPerRequest / dgResult.cpuUsPerRequest;
  log();
  log(
    `${''.padEnd(20)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'RSS MB'.padStart(9)}${'errors'.padStart(8)}${'CPU us/req'.padStart(12)}${'req/s/core'.padStart(12)}`,
  );
  for (const r of [floorResult, dgResult]) {
    log(
      `${r.name.padEnd(20)}${fmt(r.rps).padStart(9)}${fmt(r.p50, 2).padStart(9)}${fmt(r.p99, 2).padStart(9)}${fmt(r.rssMb).padStart(9)}${fmt(r.errors).padStart(8)}${fmt(r.cpuUsPerRequest).padStart(12)}${fmt(r.perCoreRps).padStart(12)}`,
    );
  }
  log();
  log(
    `ratio driftguard/floor  ${ratio.toFixed(2)} measured req/s; ${cpuRatio.toFixed(2)} by CPU per request   (target >= ${TARGETS.ratio}: ${verdict(ratio >= TARGETS.ratio)} / ${verdict(cpuRatio >= TARGETS.ratio)})`,
  );
  log(
    `p99 at ${CONNECTIONS} connections  ${fmt(dgResult.p99, 2)} ms   (target <= ${TARGETS.p99Ms} ms: ${verdict(dgResult.p99 <= TARGETS.p99Ms)})`,
  );
  log(
    `engine                  ${fmt(engineDenied.cpu)} evaluations/s of CPU time   (target >= ${fmt(TARGETS.engine)}: ${verdict(engineDenied.cpu >= TARGETS.engine)})`,
  );
  log(`RSS under load          ${fmt(dgResult.rssMb)} MB   (target <= ${TARGETS.rssMb} MB: ${verdict(dgResult.rssMb <= TARGETS.rssMb)})`);
  log(
    `start to ready          ${fmt(readyMs)} ms, median of 5 (${readies.map((r) => fmt(r)).join(', ')})   (target <= ${TARGETS.readyMs} ms: ${verdict(readyMs <= TARGETS.readyMs)})`,
  );
  log(
    `  floor start to ready  ${fmt(floorReadyMs)} ms, median of 5 (${floorReadies.map((r) => fmt(r)).join(', ')}); ratio ${readyRatio.toFixed(2)}   (target <= ${TARGETS.readyRatio}x the floor: ${verdict(readyRatio <= TARGETS.readyRatio)})`,
  );
  log(`records                 ${fmt(recordLines)} lines written under load; driftguard exited ${exit} on SIGTERM`);
  log(
    `load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (other processes share these cores: compare runs made under similar load)`,
  );

  const out = {
    time: new Date().toISOString(),
    node: process.version,
    cores,
    pinned: hasTaskset,
    loadAverage: { before: loadBefore, after: loadAfter },
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    deck: { bodies: bodies.length, minBytes: sizes[0], medianBytes: percentile(sizes, 50), maxBytes: sizes.at(-1) },
    floor: floorResult,
    driftguard: { ...dgResult, records: recordLines, readyMs, readies },
    start: { readyMs, readies, floorReadyMs, floorReadies, ratio: readyRatio },
    ratio,
    cpuRatio,
    engine: { deniedEdit: engineDenied, gitOpsUpdate: engineGitOps, policies: set.policies.length },
    targets: TARGETS,
  };
  mkdirSync(path.join(REPO, '.bench'), { recursive: true });
  writeFileSync(path.join(REPO, '.bench/latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  log(`figures written to .bench/latest.json`);
}

await main();
