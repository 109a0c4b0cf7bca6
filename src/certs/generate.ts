/**
 * A CA and a serving certificate for the webhook, made with `selfsigned`. The API server verifies
 * the serving certificate against the caBundle in the webhook configuration and the name
 * <service>.<namespace>.svc, so every DNS form of the Service is a SAN.
 */
import { X509Certificate } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface CertificateOptions {
  service: string;
  namespace: string;
  /** Extra DNS names or IP addresses. */
  extraNames?: readonly string[];
  now: Date;
  caDays?: number;
  servingDays?: number;
}

export interface GeneratedCertificates {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export const DEFAULT_CA_DAYS = 5 * 365;
export const DEFAULT_SERVING_DAYS = 365;

export function serviceNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * 86_400_000);
}

export async function generateCertificates(opts: CertificateOptions): Promise<GeneratedCertificates> {
  const names = [...new Set([...serviceNames(opts.service, opts.namespace), ...(opts.extraNames ?? [])])];
  const notBefore = new Date(opts.now.getTime() - 5 * 60_000); // tolerate small clock skew
  const ca = await selfsigned.generate([{ name: 'commonName', value: `driftguard-ca.${opts.namespace}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: addDays(opts.now, opts.caDays ?? DEFAULT_CA_DAYS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const serving = await selfsigned.generate([{ name: 'commonName', value: `${opts.service}.${opts.namespace}.svc` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: addDays(opts.now, opts.servingDays ?? DEFAULT_SERVING_DAYS),
    ca: { key: ca.private, cert: ca.cert },
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
  return { caCert: ca.cert, caKey: ca.private, cert: serving.cert, key: serving.private };
}

/** Seconds until the (first) certificate in a PEM expires; negative once expired. */
export function secondsUntilExpiry(pem: string, now: Date): number {
  const cert = new X509Certificate(pem);
  return Math.floor((Date.parse(cert.validTo) - now.getTime()) / 1000);
}
