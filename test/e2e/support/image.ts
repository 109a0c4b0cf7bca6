/**
 * The image, built and run here without a Docker engine: Debian's buildah builds the Dockerfile on
 * the stand-in base scripts/image-base.sh makes (node:26-slim cannot be pulled here), and
 * `buildah run --isolation chroot` runs the image's ENTRYPOINT with the Deployment's arguments, as
 * the Deployment's user, with only the Deployment's mounts.
 *
 * buildah run has no read-only root: every top-level directory of the image is bind-mounted
 * read-only over itself (of /var and /run, every subdirectory: buildah writes /run/.containerenv),
 * so nothing of the image can be written (the test proves it with writes).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from '../../support/fixtures.js';
import { childEnv } from '../cluster/controlplane.js';

const run = promisify(execFile);

const IMAGE = 'localhost/driftguard:e2e';

export function haveBuildah(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      return readdirSync(d).includes('buildah');
    } catch {
      return false;
    }
  });
}

async function buildah(args: string[], timeout = 120_000): Promise<string> {
  const { stdout } = await run('buildah', args, { env: childEnv(), maxBuffer: 64 * 1024 * 1024, timeout });
  return stdout;
}

/** scripts/image-base.sh: the stand-in base's name (built and cached on first use). */
export async function baseImage(): Promise<string> {
  const { stdout } = await run('bash', [path.join(REPO, 'scripts/image-base.sh')], {
    env: childEnv(),
    timeout: 30 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim().split('\n').pop()!;
}

/**
 * The CA bundle this machine's npm trusts (`npm config get cafile`), when it has one: where the
 * npm registry is reached through a TLS proxy with its own CA, the build's `npm ci` must trust it
 * too. It is mounted for the RUN steps only (buildah bud -v), with an npmrc naming it; nothing of
 * it lands in the image.
 */
async function npmTrustVolumes(dir: string): Promise<string[]> {
  const cafile = (await run('npm', ['config', 'get', 'cafile'], { env: childEnv() })).stdout.trim();
  if (cafile === '' || cafile === 'null' || cafile === 'undefined') return [];
  const npmrc = path.join(dir, 'npmrc');
  writeFileSync(npmrc, 'cafile=/etc/driftguard-build-ca.crt\n');
  return ['-v', `${cafile}:/etc/driftguard-build-ca.crt:ro`, '-v', `${npmrc}:/usr/local/etc/npmrc:ro`];
}

/**
 * `buildah bud --isolation chroot` of the repository's Dockerfile on `base`. --layers keeps each
 * step's result: with package-lock.json unchanged, npm ci is not run again.
 */
export async function buildImage(base: string): Promise<{ ms: number; log: string }> {
  const started = Date.now();
  const trust = await npmTrustVolumes(mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-bud-')));
  const { stdout, stderr } = await run(
    'buildah',
    ['bud', '--isolation', 'chroot', '--layers', ...trust, '--build-arg', `NODE_IMAGE=${base}`, '-t', IMAGE, '-f', 'Dockerfile', '.'],
    { cwd: REPO, env: childEnv(), timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return { ms: Date.now() - started, log: stdout + stderr };
}

export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  user: string;
  env: string[];
  workingDir: string;
}

export async function imageConfig(): Promise<ImageConfig> {
  const info = JSON.parse(await buildah(['inspect', '--type', 'image', IMAGE])) as { OCIv1: { config: Record<string, any> } };
  const c = info.OCIv1.config;
  return { entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], user: c.User ?? '', env: c.Env ?? [], workingDir: c.WorkingDir ?? '' };
}

/** A working container of the image, with its root filesystem mounted on the host. */
export interface Container {
  id: string;
  root: string;
  /** `-v` options that mount every top-level directory of the image read-only over itself. */
  readOnlyRoot: string[];
  remove(): Promise<void>;
}

/** Mounted by buildah itself (or the Deployment's own volumes): not remounted read-only. */
const RUNTIME_DIRS = new Set(['proc', 'sys', 'dev', 'tmp', 'run', 'var']);

export async function container(): Promise<Container> {
  const id = (await buildah(['from', '--pull-never', IMAGE])).trim();
  const root = (await buildah(['mount', id])).trim();
  const readOnlyRoot: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || RUNTIME_DIRS.has(entry.name)) continue;
    readOnlyRoot.push('-v', `${path.join(root, entry.name)}:/${entry.name}:ro`);
  }
  // /var holds /var/run (-> /run), and buildah writes /run/.containerenv and mounts the service
  // account token under /run/secrets: their subdirectories are remounted instead.
  for (const dir of ['var', 'run'])
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true }))
      if (entry.isDirectory()) readOnlyRoot.push('-v', `${path.join(root, dir, entry.name)}:/${dir}/${entry.name}:ro`);
  return {
    id,
    root,
    readOnlyRoot,
    remove: async () => {
      await buildah(['rm', id]).catch(() => undefined);
    },
  };
}

/** Disk use of the image's filesystem, whole and by the parts that take the space (bytes). */
export async function imageSizes(root: string): Promise<Record<string, number>> {
  // Separate du runs: one du counts a directory once, so a part inside '.' would show as 0.
  const du = async (parts: string[]) => (await run('du', ['-sxb', ...parts], { cwd: root })).stdout.trim().split('\n');
  const out: Record<string, number> = { total: Number((await du(['.']))[0]!.split('\t')[0]) };
  const parts = [
    'usr/local/bin/node',
    'usr/local/lib/node_modules/npm',
    'app/node_modules',
    'app/dist',
    'usr/lib',
    'usr/share',
    'usr/bin',
    'var',
  ];
  for (const line of await du(parts)) {
    const [bytes, name] = line.split('\t');
    out[name!] = Number(bytes);
  }
  return out;
}

export interface RunOptions {
  user: string;
  volumes: string[];
  env: Record<string, string>;
  command: string[];
}

/** `buildah run --isolation chroot` of a command in the container; stdout and stderr are kept. */
export function runIn(c: Container, opts: RunOptions): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const args = ['run', '--isolation', 'chroot', '--user', opts.user, ...c.readOnlyRoot];
  for (const v of opts.volumes) {
    // The mount point, made in the container's own layer before its directories are read-only
    // (as a container runtime makes it): /etc/driftguard/tls is not in the image.
    mkdirSync(path.join(c.root, v.split(':')[1]!), { recursive: true });
    args.push('-v', v);
  }
  for (const [k, v] of Object.entries(opts.env)) args.push('--env', `${k}=${v}`);
  args.push(c.id, '--', ...opts.command);
  const child = spawn('buildah', args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return { child, stdout: () => out, stderr: () => err };
}

/** Run a short command in the container to its end. */
export async function runToEnd(c: Container, opts: RunOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = runIn(c, opts);
  const code = await new Promise<number>((resolve) => r.child.once('close', (n) => resolve(n ?? 1)));
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}
