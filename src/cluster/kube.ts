/**
 * The cluster, through @kubernetes/client-node: it supplies credentials and TLS (in-cluster service
 * account or KUBECONFIG); requests go out with a hard timeout, so no cluster call can stall an
 * admission decision.
 */
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type { KubeConfig } from '@kubernetes/client-node';
import { DriftguardError } from '../errors.js';

/**
 * @kubernetes/client-node is loaded when a cluster is first configured, not at every start: it
 * costs start-up time and memory that a server without a cluster never needs (the figures:
 * docs/performance.md, "Figures the code's comments rely on"). require() of an ES module works from Node 20.19 on, the engines floor.
 */
const requireModule = createRequire(import.meta.url);

function newKubeConfig(): KubeConfig {
  const clientNode = requireModule('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  return new clientNode.KubeConfig();
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export interface KubeClientOptions {
  /** Per-request timeout; admission calls use a short one (the webhook itself has 5 s). */
  timeoutMs: number;
}

export class KubeClient {
  readonly server: string;
  private readonly kc: KubeConfig;
  private readonly timeoutMs: number;

  constructor(kc: KubeConfig, opts: KubeClientOptions) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new DriftguardError('DG_USAGE', 'the kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs;
  }

  /** `kubeconfig`: a file; `in-cluster`: the pod's service account. */
  static load(source: string, opts: KubeClientOptions): KubeClient {
    const kc = newKubeConfig();
    try {
      if (source === 'in-cluster') kc.loadFromCluster();
      else kc.loadFromFile(source);
    } catch (err) {
      throw new DriftguardError(
        'DG_USAGE',
        `cannot load cluster config from ${source}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return new KubeClient(kc, opts);
  }

  /** A server by URL, with a bearer token and a CA file (or no TLS verification, for a loopback test server). */
  static fromServer(
    server: string,
    auth: { token?: string; caFile?: string; insecureSkipTlsVerify?: boolean },
    opts: KubeClientOptions,
  ): KubeClient {
    const kc = newKubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server, caFile: auth.caFile, skipTLSVerify: auth.insecureSkipTlsVerify === true }],
      users: [{ name: 'u', token: auth.token }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return new KubeClient(kc, opts);
  }

  /** `contentType` for a body other than plain JSON, e.g. application/merge-patch+json for PATCH. */
  request(
    method: string,
    path: string,
    opts: { body?: unknown; accept?: string; timeoutMs?: number; contentType?: string } = {},
  ): Promise<KubeResponse> {
    const url = new URL(this.server + path);
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const options: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: {
        accept: opts.accept ?? 'application/json',
        ...(payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': payload.length }),
      },
    };
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    return this.kc.applyToHTTPSOptions(options).then(
      () =>
        new Promise<KubeResponse>((resolve, reject) => {
          const mod = url.protocol === 'http:' ? http : https;
          const req = mod.request(options, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: unknown = text;
              try {
                body = text === '' ? undefined : JSON.parse(text);
              } catch {
                // not JSON: keep the text
              }
              resolve({ status: res.statusCode ?? 0, body });
            });
            res.on('error', reject);
          });
          req.setTimeout(timeout, () => req.destroy(new Error(`timed out after ${timeout} ms`)));
          req.on('error', reject);
          req.end(payload);
        }),
    );
  }
}

/** The REST path of one object: /api/v1/... for the core group, /apis/GROUP/VERSION/... otherwise. */
export function objectPath(ref: { group: string; version: string; resource: string; namespace?: string; name: string }): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  return `${base}${ns}/${ref.resource}/${encodeURIComponent(ref.name)}`;
}
