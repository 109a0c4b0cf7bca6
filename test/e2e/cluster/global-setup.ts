/**
 * The e2e project's global setup: build (or find) the control plane, start it once for all e2e
 * files, hand its address to them through vitest's provide/inject, and stop it afterwards.
 *
 * Without a Go toolchain the control plane cannot be built: the suite says so loudly and its tests
 * skip, unless DRIFTGUARD_E2E=required (set by .ci/run), where that fails the run.
 * DRIFTGUARD_E2E=off skips it on purpose.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlaneInfo } from './controlplane.js';

export type E2eContext = { available: true; cluster: ControlPlaneInfo } | { available: false; reason: string };

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}

const REPO = path.resolve(import.meta.dirname, '../../..');

function banner(lines: string[]): void {
  const bar = '!'.repeat(100);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n\n`);
}

/** scripts/e2e-cluster.sh: its progress goes to our stderr, the binary directory comes on stdout. */
function build(): Promise<{ code: number; binDir: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(REPO, 'scripts/e2e-cluster.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    // 'close', not 'exit': the process may exit before its stdout has been read to the end (the
    // binary directory then came out empty and etcd was spawned by a bare name, on a loaded machine).
    child.once('close', (code) => resolve({ code: code ?? 1, binDir: out.trim().split('\n').pop() ?? '' }));
  });
}

/**
 * Kill what a crashed earlier run left behind. Each run writes running-<its pid>.pids beside the
 * binaries; a file whose run is gone names processes nobody will stop (only our own binaries are
 * killed). Runs that are alive (another checkout's suite) are left alone.
 */
function reapStale(cacheDir: string, binDir: string): void {
  for (const file of readdirSync(cacheDir)) {
    const m = /^running-(\d+)\.pids$/.exec(file);
    if (m === null) continue;
    if (alive(Number(m[1]))) continue;
    for (const pid of readFileSync(path.join(cacheDir, file), 'utf8')
      .split('\n')
      .map(Number)
      .filter((n) => n > 0)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(binDir)) process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    rmSync(path.join(cacheDir, file), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mode = process.env.DRIFTGUARD_E2E ?? 'auto';
  const skip = (reason: string): (() => Promise<void>) => {
    if (mode === 'required') throw new Error(`DRIFTGUARD_E2E=required, but ${reason}`);
    banner([
      `END-TO-END SUITE SKIPPED: ${reason}`,
      'The tests against a real kube-apiserver did not run. See docs/development.md, "End-to-end tests".',
    ]);
    project.provide('e2e', { available: false, reason });
    return async () => {};
  };
  if (mode === 'off') return skip('DRIFTGUARD_E2E=off');

  const { code, binDir } = await build();
  if (code === 3) return skip('no Go toolchain to build kube-apiserver, etcd and kubectl (scripts/e2e-cluster.sh)');
  if (code !== 0) throw new Error(`scripts/e2e-cluster.sh failed (exit ${code}); its output is above`);
  if (!path.isAbsolute(binDir)) throw new Error(`scripts/e2e-cluster.sh printed no binary directory (got "${binDir}")`);

  const pidFile = path.join(path.dirname(binDir), `running-${process.pid}.pids`);
  reapStale(path.dirname(binDir), binDir);
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-'));
  const started = Date.now();
  const cp = await startControlPlane({ binDir, dir });
  writeFileSync(pidFile, cp.pids.join('\n'));
  process.stderr.write(`e2e: control plane up in ${Date.now() - started} ms at ${cp.server} (${dir})\n`);
  const { stop, ...info } = cp;
  project.provide('e2e', { available: true, cluster: info });
  return async () => {
    await stop();
    rmSync(pidFile, { force: true });
    if (process.env.DRIFTGUARD_E2E_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  };
}
