/**
 * Mutual TLS with the API server (--client-ca). The TLS layer asks every client for a certificate
 * and verifies it against the CA, but lets the connection through either way (the kubelet's probes
 * present none); this check then refuses reviews from any client whose certificate did not verify.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { HttpErrorCode } from '../errors.js';

export function requireClientCertificate(req: IncomingMessage): { code: HttpErrorCode; message: string } | undefined {
  const socket = req.socket as TLSSocket;
  if (socket.authorized === true) return undefined;
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  const presented = peer !== undefined && Object.keys(peer).length > 0;
  const why = presented
    ? `client certificate not accepted: ${String(socket.authorizationError ?? 'unknown reason')}`
    : 'a client certificate signed by the --client-ca is required';
  return { code: 'DG_CLIENT_CERT', message: why };
}
