/** Certificates for tests, made with the same code as `driftguard certs`, valid from now. */
import {
  generateCa,
  issueClientCertificate,
  issueServingCertificate,
  type CertificateAuthority,
  type KeyPair,
} from '../../src/certs/generate.js';

export interface Pki {
  ca: CertificateAuthority;
  serving: KeyPair;
}

/** A CA and a serving pair for localhost / 127.0.0.1 and the in-cluster names. */
export async function pki(opts: { servingDays?: number } = {}): Promise<Pki> {
  const now = new Date();
  const ca = await generateCa({ namespace: 'driftguard', now });
  const serving = await issueServingCertificate(ca, {
    service: 'driftguard',
    namespace: 'driftguard',
    extraNames: ['localhost', '127.0.0.1'],
    now,
    ...(opts.servingDays === undefined ? {} : { days: opts.servingDays }),
  });
  return { ca, serving };
}

export function clientCertificate(ca: CertificateAuthority, commonName = 'kube-apiserver'): Promise<KeyPair> {
  return issueClientCertificate(ca, { commonName, now: new Date() });
}
