/**
 * The keyed lists of the kinds a cluster serves, read from its OpenAPI v3 (/openapi/v3: an index of
 * group-versions, each a document with a content hash in its URL). Used by `scripts/list-keys.ts`
 * to generate the built-in table and by `serve` (with a cluster) for custom resources, at start and
 * on a timer, never on the request path.
 */
import { listKeysFromOpenApi } from '../k8s/openapi-list-keys.js';
import type { ListKeyTable } from '../k8s/list-keys.js';
import type { KubeClient } from './kube.js';

interface OpenApiIndex {
  /** Group-version paths ("api/v1", "apis/apps/v1") to their document's server-relative URL. */
  groupVersions: Map<string, string>;
}

/** A group-version path: api/v1 or apis/GROUP/VERSION (not the group lists, version, logs, ...). */
const GROUP_VERSION = /^(api\/v1|apis\/[^/]+\/[^/]+)$/;

async function getJson(client: KubeClient, path: string, timeoutMs: number): Promise<unknown> {
  const res = await client.request('GET', path, { timeoutMs });
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return res.body;
}

async function openApiIndex(client: KubeClient, timeoutMs = 10_000): Promise<OpenApiIndex> {
  const body = await getJson(client, '/openapi/v3', timeoutMs);
  const paths = (body as { paths?: Record<string, { serverRelativeURL?: unknown }> } | undefined)?.paths;
  if (typeof paths !== 'object' || paths === null) throw new Error('GET /openapi/v3: no paths in the answer');
  const groupVersions = new Map<string, string>();
  for (const [p, v] of Object.entries(paths)) {
    if (GROUP_VERSION.test(p) && typeof v?.serverRelativeURL === 'string') groupVersions.set(p, v.serverRelativeURL);
  }
  return { groupVersions };
}

/** "apis/apps/v1" -> "apps/v1", "api/v1" -> "/v1" (the core group is ""). */
function groupVersionOf(path: string): string {
  return path === 'api/v1' ? '/v1' : path.slice('apis/'.length);
}

/**
 * The keyed lists of the group-versions `include` accepts. `cache` (URL with hash -> table) lets a
 * refresh fetch only the documents that changed since the last one.
 */
export async function fetchListKeys(
  client: KubeClient,
  opts: { include?: (groupVersion: string) => boolean; cache?: Map<string, ListKeyTable>; timeoutMs?: number } = {},
): Promise<{ table: ListKeyTable; groupVersions: string[] }> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const index = await openApiIndex(client, timeoutMs);
  const table: Record<string, ListKeyTable[string]> = {};
  const groupVersions: string[] = [];
  const seen = new Map<string, ListKeyTable>();
  for (const [p, url] of [...index.groupVersions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const gv = groupVersionOf(p);
    if (opts.include !== undefined && !opts.include(gv)) continue;
    groupVersions.push(gv);
    let part = opts.cache?.get(url);
    if (part === undefined) part = listKeysFromOpenApi(await getJson(client, url, timeoutMs));
    seen.set(url, part);
    Object.assign(table, part);
  }
  if (opts.cache !== undefined) {
    opts.cache.clear();
    for (const [k, v] of seen) opts.cache.set(k, v);
  }
  return { table: Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1))), groupVersions };
}
