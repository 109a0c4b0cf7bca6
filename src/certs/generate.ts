/**
 * A CA and a serving certificate for the webhook, made with `selfsigned`. The API server verifies
 * the serving certificate against the caBundle in the webhook configuration and the name
 * <service>.<namespace>.svc, so every DNS form of the Service is a SAN.
 *
 * The CA and the certificates it issues are separate steps so that a renewal can keep the CA (and
 * with it the caBundle every webhook configuration carries) and replace only the serving pair.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type { generate as Generate } from 'selfsigned';

const requireModule = createRequire(import.meta.url);

/**
 * selfsigned is loaded when a certificate is made, not at every start (its load time: docs/performance.md,
 * "Figures the code's comments rely on"). With
 * require(), not import(): the bundle runs from V8's code cache, where Node 20 has lost import()'s
 * loader (src/cli.ts).
 */
const selfsigned = {
  generate(...args: Parameters<typeof Generate>): ReturnType<typeof Generate> {
    return (requireModule('selfsigned') as typeof import('selfsigned')).generate(...args);
  },
};

export interface CertificateOptions {
  service: string;
  namespace: string;
  /** Extra DNS names or IP addresses. */
  extraNames?: readonly string[];
  now: Date;
  caDays?: number;
  servingDays?: number;
  /** Issue from this CA instead of creating one (renewal). */
  ca?: CertificateAuthority;
}

export interface CertificateAuthority {
  cert: string;
  key: string;
}

export interface KeyPair {
  cert: string;
  key: string;
}

export interface GeneratedCertificates {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/** Five years: the CA only signs; replacing it means replacing every caBundle. */
export const DEFAULT_CA_DAYS = 5 * 365;
/** One year for the serving pair: renewed with `driftguard certs --renew`, hot-reloaded by the server. */
export const DEFAULT_SERVING_DAYS = 365;
/** Client certificates (the API server's, for mutual TLS) live as long as serving ones. */
const DEFAULT_CLIENT_DAYS = 365;

export function serviceNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * 86_400_000);
}

/** Tolerate small clock skew between the machine that issues and the ones that verify. */
function notBefore(now: Date): Date {
  return new Date(now.getTime() - 5 * 60_000);
}

const EC = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;

/** A certificate cannot be trusted past its issuer's expiry, so it never claims to be. */
function issuedUntil(ca: CertificateAuthority, now: Date, days: number): Date {
  const wanted = addDays(now, days);
  const caEnd = new Date(new X509Certificate(ca.cert).validTo);
  return caEnd < wanted ? caEnd : wanted;
}

export async function generateCa(opts: { namespace: string; now: Date; days?: number }): Promise<CertificateAuthority> {
  // A name of its own: while a CA is rotated, a bundle holds the old and the new one, and a verifier
  // that picks the issuer by name alone must not pick the wrong one.
  const name = `driftguard-ca.${opts.namespace}.${randomBytes(4).toString('hex')}`;
  const ca = await selfsigned.generate([{ name: 'commonName', value: name }], {
    ...EC,
    notBeforeDate: notBefore(opts.now),
    notAfterDate: addDays(opts.now, opts.days ?? DEFAULT_CA_DAYS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: ca.cert, key: ca.private };
}

export async function issueServingCertificate(
  ca: CertificateAuthority,
  opts: { service: string; namespace: string; extraNames?: readonly string[]; now: Date; days?: number },
): Promise<KeyPair> {
  const names = [...new Set([...serviceNames(opts.service, opts.namespace), ...(opts.extraNames ?? [])])];
  const serving = await selfsigned.generate([{ name: 'commonName', value: `${opts.service}.${opts.namespace}.svc` }], {
    ...EC,
    notBeforeDate: notBefore(opts.now),
    notAfterDate: issuedUntil(ca, opts.now, opts.days ?? DEFAULT_SERVING_DAYS),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (IPV4.test(n) || n.includes(':') ? { type: 7, ip: n } : { type: 2, value: n })),
      },
    ],
  });
  return { cert: serving.cert, key: serving.private };
}

/** A client certificate (extKeyUsage clientAuth): what the API server presents when --client-ca is on. */
export async function issueClientCertificate(
  ca: CertificateAuthority,
  opts: { commonName: string; now: Date; days?: number },
): Promise<KeyPair> {
  const client = await selfsigned.generate([{ name: 'commonName', value: opts.commonName }], {
    ...EC,
    notBeforeDate: notBefore(opts.now),
    notAfterDate: issuedUntil(ca, opts.now, opts.days ?? DEFAULT_CLIENT_DAYS),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: client.cert, key: client.private };
}

export async function generateCertificates(opts: CertificateOptions): Promise<GeneratedCertificates> {
  const ca =
    opts.ca ??
    (await generateCa({ namespace: opts.namespace, now: opts.now, ...(opts.caDays === undefined ? {} : { days: opts.caDays }) }));
  const serving = await issueServingCertificate(ca, {
    service: opts.service,
    namespace: opts.namespace,
    now: opts.now,
    ...(opts.extraNames === undefined ? {} : { extraNames: opts.extraNames }),
    ...(opts.servingDays === undefined ? {} : { days: opts.servingDays }),
  });
  return { caCert: ca.cert, caKey: ca.key, cert: serving.cert, key: serving.key };
}
