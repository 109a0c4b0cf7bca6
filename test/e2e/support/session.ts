/**
 * What most e2e files share: driftguard rendered, started and registered once per file (beforeAll),
 * and direct HTTPS calls to the API server as a kubectl identity, for writes that must really run
 * at the same time (kubectl starts too slowly to overlap them).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { REPO } from '../../support/fixtures.js';
import { applyObjects, cluster, type Identity } from './cluster.js';
import {
  install,
  renderInstall,
  startDriftguard,
  webhooksForPolicies,
  type Driftguard,
  type DriftguardOptions,
  type Obj,
} from './driftguard.js';
import { waitForWebhooks } from './objects.js';

export const E2E_POLICIES = path.join(REPO, 'test/e2e/policies');

export interface Session {
  dg: Driftguard;
  objects: Obj[];
  certDir: string;
}

/** Render the install, start driftguard (as its service account unless told), register the webhooks, wait for them. */
export async function startSession(opts: Partial<DriftguardOptions> = {}): Promise<Session> {
  const { objects, certDir } = await renderInstall();
  const dg = await startDriftguard({ policies: E2E_POLICIES, certDir, ...opts });
  await install({ objects, certDir }, dg.port);
  // The base registers what the sample policies cover; these are the suite's own policies.
  await applyObjects('admin', await webhooksForPolicies(opts.policies ?? E2E_POLICIES, certDir, dg.port));
  await waitForWebhooks(dg);
  return { dg, objects, certDir };
}

export interface ApiResponse {
  status: number;
  body: any;
}

/** The bearer token of an identity's kubeconfig (the suite writes them as JSON). */
function tokenOf(as: Identity): string {
  const file = typeof as === 'string' ? cluster().kubeconfigs[as] : as.kubeconfig;
  const kc = JSON.parse(readFileSync(file, 'utf8')) as { users: { user: { token: string } }[] };
  return kc.users[0]!.user.token;
}

/** One request to the API server as `as`; resolves with any status, rejects only on a network error. */
export function apiRequest(
  as: Identity,
  method: string,
  apiPath: string,
  body?: unknown,
  contentType = 'application/merge-patch+json',
): Promise<ApiResponse> {
  const url = new URL(cluster().server + apiPath);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(cluster().caFile),
        headers: {
          authorization: `Bearer ${tokenOf(as)}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': payload.length }),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}
