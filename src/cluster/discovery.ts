/**
 * API discovery for the kinds outside the built-in table (custom resources such as an Argo Rollout):
 * which resource serves a kind, whether it is namespaced and whether it has a scale subresource.
 * Asked once per policy load for the groups the policies name, never per request.
 */
import { DriftguardError, errorMessage } from '../errors.js';
import { registrationFor, type KindLookup, type ServedKind } from '../policy/registration.js';
import type { DriftPolicy } from '../policy/schema.js';
import type { KubeClient } from './kube.js';

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

async function getJson(client: KubeClient, path: string): Promise<unknown> {
  let res;
  try {
    res = await client.request('GET', path, { timeoutMs: 5_000 });
  } catch (err) {
    throw new DriftguardError('DG_CLUSTER_REQUEST', `discovery: GET ${path} at ${client.server}: ${errorMessage(err)}`, { cause: err });
  }
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new DriftguardError('DG_CLUSTER_REQUEST', `discovery: GET ${path} answered ${res.status}`);
  return res.body;
}

/** An APIResourceList -> kind -> what serves it (subresources are listed as `resource/sub`). */
export function parseResourceList(body: unknown): Map<string, ServedKind> {
  const resources = Array.isArray(obj(body).resources) ? (obj(body).resources as unknown[]).map(obj) : [];
  const names = new Set(resources.map((r) => r.name).filter((n): n is string => typeof n === 'string'));
  const out = new Map<string, ServedKind>();
  for (const r of resources) {
    if (typeof r.name !== 'string' || typeof r.kind !== 'string' || r.name.includes('/')) continue;
    if (out.has(r.kind)) continue;
    out.set(r.kind, { resource: r.name, namespaced: r.namespaced === true, scale: names.has(`${r.name}/scale`) });
  }
  return out;
}

/** What the API server serves in `groups`, as a lookup; a group it does not serve resolves nothing. */
async function discoverKinds(client: KubeClient, groups: Iterable<string>): Promise<KindLookup> {
  const byGroup = new Map<string, Map<string, ServedKind>>();
  for (const group of new Set(groups)) {
    if (group.includes('*')) continue;
    const versions: string[] = [];
    if (group === '') versions.push('v1');
    else {
      const g = obj(await getJson(client, `/apis/${encodeURIComponent(group)}`));
      const preferred = obj(g.preferredVersion).version;
      if (typeof preferred === 'string') versions.push(preferred);
      for (const v of Array.isArray(g.versions) ? (g.versions as unknown[]) : [])
        if (typeof obj(v).version === 'string' && !versions.includes(obj(v).version as string)) versions.push(obj(v).version as string);
    }
    const kinds = new Map<string, ServedKind>();
    for (const version of versions) {
      const path = group === '' ? `/api/${version}` : `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}`;
      for (const [kind, served] of parseResourceList(await getJson(client, path))) if (!kinds.has(kind)) kinds.set(kind, served);
    }
    byGroup.set(group, kinds);
  }
  return (group, kind) => byGroup.get(group)?.get(kind);
}

/**
 * A lookup for the kinds of `policies` that neither the built-in table nor their `plurals` name,
 * from the API server's discovery; undefined without a client or when nothing needs looking up.
 */
export async function lookupForPolicies(policies: readonly DriftPolicy[], client: KubeClient | undefined): Promise<KindLookup | undefined> {
  const offline = registrationFor(policies);
  if (client === undefined || offline.unresolved.length === 0) return undefined;
  return discoverKinds(
    client,
    offline.unresolved.map((u) => u.group),
  );
}
