/** Serving credentials on disk: read them, or create a development CA and serving pair. */
import { readFile, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { generateCertificates } from '../certs/generate.js';
import { DriftguardError, systemErrorText } from '../errors.js';
import { makeDirectories } from '../files.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate this CA signed (mutual TLS). */
  clientCaFile?: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  clientCa?: string;
}

/** The names a development certificate carries: loopback and the in-cluster Service. */
const DEV_EXTRA_NAMES = ['localhost', '127.0.0.1', '::1'];

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readTls(files: TlsFiles): Promise<TlsMaterial> {
  try {
    const [cert, key, clientCa] = await Promise.all([
      readFile(files.certFile, 'utf8'),
      readFile(files.keyFile, 'utf8'),
      files.clientCaFile === undefined ? Promise.resolve(undefined) : readFile(files.clientCaFile, 'utf8'),
    ]);
    return clientCa === undefined ? { cert, key } : { cert, key, clientCa };
  } catch (err) {
    throw new DriftguardError('DG_TLS', `cannot read TLS files: ${systemErrorText(err)}`, { cause: err });
  }
}

export interface CertDirResult extends TlsFiles {
  caFile: string;
  generated: boolean;
}

/** tls.crt / tls.key / ca.crt in `dir` (the names a kubernetes.io/tls Secret mounts); generated when missing. */
export async function ensureCertDir(dir: string, opts: { service: string; namespace: string; now: Date }): Promise<CertDirResult> {
  const files = { certFile: path.join(dir, 'tls.crt'), keyFile: path.join(dir, 'tls.key'), caFile: path.join(dir, 'ca.crt') };
  if ((await exists(files.certFile)) && (await exists(files.keyFile))) return { ...files, generated: false };
  try {
    makeDirectories(dir);
    const c = await generateCertificates({ service: opts.service, namespace: opts.namespace, extraNames: DEV_EXTRA_NAMES, now: opts.now });
    await writeFile(files.caFile, c.caCert);
    await writeFile(path.join(dir, 'ca.key'), c.caKey, { mode: 0o600 });
    await writeFile(files.keyFile, c.key, { mode: 0o600 });
    await writeFile(files.certFile, c.cert);
  } catch (err) {
    throw new DriftguardError('DG_TLS', `cannot create certificates in ${dir}: ${systemErrorText(err)}`, { cause: err });
  }
  return { ...files, generated: true };
}
