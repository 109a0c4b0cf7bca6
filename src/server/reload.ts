/**
 * Hot reload of the serving certificate and the policies, without a restart.
 *
 * Kubernetes updates a mounted Secret or ConfigMap atomically: the kubelet writes the new files into
 * a fresh `..<timestamp>` directory and renames a `..data_tmp` symlink over `..data`, which every
 * visible file links through. A watch on the file itself would follow the old inode and go quiet, so
 * the directory holding it is watched; a burst of events is debounced into one re-read; and the
 * content is fingerprinted, so a re-read that finds nothing new does nothing. fs.watch is not
 * reliable on every filesystem (Node's docs list the caveats), so the files are also re-read on a
 * slow interval.
 *
 * A new certificate goes in with `server.setSecureContext`: connections already open, and requests on
 * them, keep the context they were accepted with; the next handshake gets the new one. A new policy
 * set replaces the old one in one assignment (`swapPolicies`); a set that does not load is rejected,
 * logged, reported, and the last good set keeps serving.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { loadPolicies, policyFiles } from '../policy/load.js';
import type { PolicySet } from '../policy/set.js';
import { readTls, type TlsFiles, type TlsMaterial } from './tls.js';

export interface ReloadOptions {
  /** Quiet time after the last change event before re-reading (one kubelet swap is several events). */
  debounceMs: number;
  /** Re-read this often even without events; 0 turns the interval off. */
  intervalMs: number;
}

export const DEFAULT_RELOAD: ReloadOptions = { debounceMs: 250, intervalMs: 60_000 };

/** What one re-read did, as data. */
export type ReloadOutcome = { status: 'unchanged' } | { status: 'loaded'; detail: string } | { status: 'rejected'; error: string };

function fingerprint(parts: readonly (string | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p === undefined ? '\u0000absent' : `${p.length}:${p}`);
  return h.digest('hex');
}

export interface CertificateReloaderOptions {
  files: TlsFiles;
  /** The material the server was started with. */
  initial: TlsMaterial;
  server: tls.Server;
  /** Context options besides cert, key and ca (minVersion ...), as the server was created with. */
  contextOptions: tls.SecureContextOptions;
  logger: Logger;
  onLoad?: (info: { notAfter: Date }) => void;
}

export class CertificateReloader {
  private loaded: string;
  private rejected: string | undefined;

  constructor(private readonly opts: CertificateReloaderOptions) {
    this.loaded = fingerprint([opts.initial.cert, opts.initial.key, opts.initial.clientCa]);
  }

  async check(): Promise<ReloadOutcome> {
    let material: TlsMaterial;
    try {
      material = await readTls(this.opts.files);
    } catch (err) {
      // A file missing for a moment (a writer that is not atomic): the next event or tick retries.
      this.opts.logger.warn(
        { err: { message: errorMessage(err) } },
        'certificate reload: cannot read the files; still serving the previous certificate',
      );
      return { status: 'rejected', error: errorMessage(err) };
    }
    const print = fingerprint([material.cert, material.key, material.clientCa]);
    if (print === this.loaded || print === this.rejected) return { status: 'unchanged' };
    const context = {
      ...this.opts.contextOptions,
      cert: material.cert,
      key: material.key,
      ...(material.clientCa === undefined ? {} : { ca: material.clientCa }),
    };
    let notAfter: Date;
    try {
      // Throws on a PEM that does not parse and on a key that does not belong to the certificate.
      tls.createSecureContext(context);
      notAfter = new Date(new X509Certificate(material.cert).validTo);
    } catch (err) {
      this.rejected = print;
      this.opts.logger.error(
        { err: { message: errorMessage(err) }, cert: this.opts.files.certFile },
        'certificate reload rejected; still serving the previous certificate',
      );
      return { status: 'rejected', error: errorMessage(err) };
    }
    this.opts.server.setSecureContext(context);
    this.loaded = print;
    this.rejected = undefined;
    this.opts.logger.info({ cert: this.opts.files.certFile, notAfter: notAfter.toISOString() }, 'certificate reloaded');
    this.opts.onLoad?.({ notAfter });
    return { status: 'loaded', detail: `valid until ${notAfter.toISOString()}` };
  }
}

export interface PolicyReloaderOptions {
  targets: readonly string[];
  current: () => PolicySet;
  swap: (set: PolicySet) => void;
  logger: Logger;
  onLoad?: (info: { ok: boolean; policies: number; error?: string }) => void;
}

export class PolicyReloader {
  private loaded: string | undefined;
  private rejected: string | undefined;

  constructor(private readonly opts: PolicyReloaderOptions) {}

  /** Fingerprint what is on disk now, so the first check after start is a no-op. */
  async prime(): Promise<void> {
    this.loaded = await this.fingerprint().catch(() => undefined);
  }

  private async fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const target of this.opts.targets) {
      for (const file of await policyFiles(target)) parts.push(file, await readFile(file, 'utf8'));
    }
    return fingerprint(parts);
  }

  private async fingerprintOrUndefined(): Promise<string | undefined> {
    // Unreadable (the directory is gone): loadPolicies reports why.
    return this.fingerprint().catch(() => undefined);
  }

  async check(): Promise<ReloadOutcome> {
    let print = await this.fingerprintOrUndefined();
    if (print !== undefined && (print === this.loaded || print === this.rejected)) return { status: 'unchanged' };
    let set: PolicySet;
    // loadPolicies reads the files one by one: if they changed while it read (a second swap), the
    // set may mix two versions, so read again until the files held still around one load.
    for (let attempt = 1; ; attempt++) {
      try {
        set = await loadPolicies(this.opts.targets);
      } catch (err) {
        this.rejected = print;
        const error = errorMessage(err);
        const serving = this.opts.current().policies.length;
        this.opts.logger.error({ err: { message: error }, serving }, 'policy reload rejected; the previous policies keep serving');
        this.opts.onLoad?.({ ok: false, policies: serving, error });
        return { status: 'rejected', error };
      }
      const after = await this.fingerprintOrUndefined();
      if (after === print || attempt === 3) break;
      print = after;
    }
    this.opts.swap(set);
    this.loaded = print;
    this.rejected = undefined;
    this.opts.logger.info({ policies: set.policies.map((p) => p.name), files: set.files.length }, 'policies reloaded');
    this.opts.onLoad?.({ ok: true, policies: set.policies.length });
    return { status: 'loaded', detail: `${set.policies.length} policies` };
  }
}

export interface Watch {
  /** Run the check now (after any run in progress). */
  trigger(): Promise<void>;
  close(): void;
}

/** The directories to watch for a list of files or directories: a directory itself, a file's parent. */
export async function watchedDirectories(targets: readonly string[]): Promise<string[]> {
  const dirs = new Set<string>();
  for (const t of targets) {
    const abs = path.resolve(t);
    const info = await stat(abs).catch(() => undefined);
    dirs.add(info?.isDirectory() === true ? abs : path.dirname(abs));
  }
  return [...dirs];
}

/**
 * Call `check` after changes in `dirs` settle, and every `intervalMs`. Runs never overlap: a change
 * during a run schedules one more run after it.
 */
export function watchDirectories(
  dirs: readonly string[],
  opts: ReloadOptions & { logger: Logger; what: string },
  check: () => Promise<unknown>,
): Watch {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const run = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await check();
        } catch (err) {
          opts.logger.error({ err: { message: errorMessage(err) } }, `${opts.what} reload failed`);
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, opts.debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    try {
      const w = watch(dir, { persistent: false }, schedule);
      w.on('error', (err) =>
        opts.logger.warn({ err: { message: errorMessage(err) }, dir }, `${opts.what}: watching stopped; the interval re-read still runs`),
      );
      watchers.push(w);
    } catch (err) {
      opts.logger.warn({ err: { message: errorMessage(err) }, dir }, `${opts.what}: cannot watch; relying on the interval re-read`);
    }
  }
  const interval = opts.intervalMs > 0 ? setInterval(() => void run(), opts.intervalMs) : undefined;
  interval?.unref();

  return {
    trigger: run,
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (interval !== undefined) clearInterval(interval);
      for (const w of watchers) w.close();
    },
  };
}
