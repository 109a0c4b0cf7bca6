/**
 * `driftguard manifests --url https://HOST:PORT`: the base URL the API server calls when driftguard
 * runs outside the cluster (no Service in front of it). Each webhook's clientConfig.url is this base
 * with the webhook's path (/validate, /observe/entry).
 *
 * admissionregistration.k8s.io/v1 WebhookClientConfig.url: the scheme must be https, and user
 * information, a query and a fragment are not allowed (docs/cli.md, `driftguard manifests`).
 * driftguard serves its routes at the root, so a path is refused too: a URL with one would send
 * every call to a route driftguard does not have.
 */
import { DriftguardError } from '../errors.js';

/** The base URL (`https://host:port`, no trailing slash), or a DG_USAGE error saying what is wrong. */
export function webhookBaseUrl(value: string): string {
  let url: URL | undefined;
  try {
    // A scheme is required: new URL('localhost:8443') would read "localhost" as one.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined) throw new DriftguardError('DG_USAGE', `--url ${JSON.stringify(value)} is not a URL: give https://HOST:PORT`);
  const problem =
    url.protocol !== 'https:'
      ? `its scheme is ${url.protocol.slice(0, -1)}; the API server calls webhooks over https only`
      : url.username !== '' || url.password !== ''
        ? 'it holds a user name or password, which the API server does not allow'
        : url.search !== '' || value.includes('?')
          ? 'it has a query, which the API server does not allow'
          : url.hash !== '' || value.includes('#')
            ? 'it has a fragment, which the API server does not allow'
            : url.pathname !== '/'
              ? `it has a path (${url.pathname}); driftguard serves /validate and /observe/entry at the root, and fills them in`
              : undefined;
  if (problem !== undefined) throw new DriftguardError('DG_USAGE', `--url ${value}: ${problem}`);
  return `https://${url.host}`;
}
