/**
 * `driftguard certs --out DIR`: a CA and a serving certificate for the in-cluster Service, as the
 * files a kubernetes.io/tls Secret holds (tls.crt, tls.key, ca.crt) plus ca.key, which stays with
 * the operator. `--renew` keeps the CA, so the caBundle in the webhook configurations stays valid
 * and the running pods pick the new pair up without a restart.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_CA_DAYS,
  DEFAULT_SERVING_DAYS,
  generateCa,
  issueClientCertificate,
  issueServingCertificate,
  serviceNames,
  type CertificateAuthority,
} from '../certs/generate.js';
import { DriftguardError, errorMessage, systemErrorText } from '../errors.js';
import { makeDirectories } from '../files.js';
import { checkServiceNames } from './manifests.js';
import { EXIT, write, type CliIO } from './io.js';
import { wholeNumber } from './flags.js';

interface CertsOptions {
  service: string;
  namespace: string;
  out?: string;
  force?: boolean;
  renew?: boolean;
  days: string;
  caDays: string;
  /** Also issue a client certificate with this common name (the API server's, for --client-ca). */
  client?: string;
  /** More names (DNS or IP) for the serving certificate: a webhook registered by `url` is verified against its host. */
  san?: string[];
}

/** An RFC 1123 DNS name, optionally a wildcard's `*.` in front. */
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const CERT_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
  clientCert: 'client.crt',
  clientKey: 'client.key',
} as const;

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Write beside, then rename: a reader (the server's reloader) never sees half a file. */
async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}

async function readCa(dir: string): Promise<CertificateAuthority> {
  const certFile = path.join(dir, CERT_FILES.caCert);
  const keyFile = path.join(dir, CERT_FILES.caKey);
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch (err) {
    throw new DriftguardError('DG_INPUT', `--renew needs the CA in ${dir} (ca.crt and ca.key): ${systemErrorText(err)}`);
  }
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.ca) throw new Error('ca.crt is not a CA certificate');
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('ca.key does not belong to ca.crt');
  } catch (err) {
    throw new DriftguardError('DG_INPUT', `cannot renew from the CA in ${dir}: ${errorMessage(err)}`);
  }
  return { cert, key };
}

async function certsCommand(opts: CertsOptions, io: CliIO): Promise<number> {
  if (opts.out === undefined)
    throw new DriftguardError('DG_USAGE', 'certs needs --out DIR, the directory to write into (for example --out manifests/certs)');
  checkServiceNames(opts);
  const servingDays = wholeNumber(opts.days, '--days', 1, 36_500);
  const caDays = wholeNumber(opts.caDays, '--ca-days', 1, 36_500);
  if (opts.renew === true && opts.force === true)
    throw new DriftguardError('DG_USAGE', '--renew keeps the CA and --force replaces it: pick one');
  const dir = path.resolve(io.cwd, opts.out);
  const now = io.clock();

  const writing: string[] = [CERT_FILES.cert, CERT_FILES.key, ...(opts.renew === true ? [] : [CERT_FILES.caCert, CERT_FILES.caKey])];
  if (opts.client !== undefined) writing.push(CERT_FILES.clientCert, CERT_FILES.clientKey);
  if (opts.renew !== true && opts.force !== true) {
    const present = [];
    for (const name of writing) if (await exists(path.join(dir, name))) present.push(name);
    if (present.length > 0) {
      throw new DriftguardError(
        'DG_OUTPUT_EXISTS',
        `${dir} already holds ${present.join(', ')}: pass --renew to keep the CA and replace the serving certificate, or --force to replace everything (a new CA needs a new caBundle in every webhook configuration)`,
      );
    }
  }

  const ca = opts.renew === true ? await readCa(dir) : await generateCa({ namespace: opts.namespace, now, days: caDays });
  const extraNames = opts.san ?? [];
  for (const name of extraNames) {
    if (isIP(name) === 0 && !DNS_NAME.test(name))
      throw new DriftguardError('DG_USAGE', `--san takes a DNS name or an IP address, got ${JSON.stringify(name)}`);
  }
  const serving = await issueServingCertificate(ca, {
    service: opts.service,
    namespace: opts.namespace,
    extraNames,
    now,
    days: servingDays,
  });
  const client =
    opts.client === undefined ? undefined : await issueClientCertificate(ca, { commonName: opts.client, now, days: servingDays });

  try {
    makeDirectories(dir);
    if (opts.renew !== true) {
      await writeAtomic(path.join(dir, CERT_FILES.caKey), ca.key, 0o600);
      await writeAtomic(path.join(dir, CERT_FILES.caCert), ca.cert, 0o644);
    }
    // Key before certificate: a watcher that sees the new certificate finds its key already there.
    await writeAtomic(path.join(dir, CERT_FILES.key), serving.key, 0o600);
    await writeAtomic(path.join(dir, CERT_FILES.cert), serving.cert, 0o644);
    if (client !== undefined) {
      await writeAtomic(path.join(dir, CERT_FILES.clientKey), client.key, 0o600);
      await writeAtomic(path.join(dir, CERT_FILES.clientCert), client.cert, 0o644);
    }
  } catch (err) {
    throw new DriftguardError('DG_TLS', `cannot write certificates to ${dir}: ${systemErrorText(err)}`, { cause: err });
  }

  const caX509 = new X509Certificate(ca.cert);
  const servingX509 = new X509Certificate(serving.cert);
  write(
    io.stdout,
    `${opts.renew === true ? 'kept' : 'wrote'} ${path.join(dir, CERT_FILES.caCert)} (CA, valid until ${new Date(caX509.validTo).toISOString()})`,
  );
  write(
    io.stdout,
    `wrote ${path.join(dir, CERT_FILES.cert)} for ${[...serviceNames(opts.service, opts.namespace), ...extraNames].join(', ')} (valid until ${new Date(servingX509.validTo).toISOString()})`,
  );
  if (client !== undefined) write(io.stdout, `wrote ${path.join(dir, CERT_FILES.clientCert)} for client ${opts.client}`);
  if (Date.parse(servingX509.validTo) < now.getTime() + servingDays * 86_400_000 - 60_000) {
    write(
      io.stderr,
      `warning: the CA expires ${new Date(caX509.validTo).toISOString()}, so the serving certificate ends then too: plan a new CA (driftguard certs --force, and the new caBundle) before that`,
    );
  }
  write(io.stdout, `keep ${path.join(dir, CERT_FILES.caKey)} private: it is only needed for --renew and never goes into the cluster`);
  return EXIT.OK;
}

export function registerCerts(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command('certs')
    .description('create a CA and a serving certificate for the in-cluster Service (tls.crt, tls.key, ca.crt, ca.key)')
    .option('--out <dir>', '(required) directory to write into (manifests/certs for `kubectl apply -k manifests`)')
    .option('--service <name>', 'the Service in front of driftguard', 'driftguard')
    .option('--namespace <name>', "driftguard's namespace", 'driftguard')
    .option('--force', 'replace existing files, CA included')
    .option('--renew', 'keep the CA in --out and issue a new serving certificate (caBundle unchanged)')
    .option('--days <n>', 'serving certificate lifetime in days', String(DEFAULT_SERVING_DAYS))
    .option('--ca-days <n>', 'CA lifetime in days', String(DEFAULT_CA_DAYS))
    .option('--client <common-name>', "also issue a client certificate (client.crt, client.key) for the API server's mutual TLS")
    .option(
      '--san <name>',
      'also name this DNS name or IP address in the serving certificate (repeatable); e.g. 127.0.0.1 when the webhooks call a url',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .action(async (opts: CertsOptions) => {
      setExit(await certsCommand(opts, io));
    });
}
