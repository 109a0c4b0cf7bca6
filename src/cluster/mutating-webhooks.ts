/**
 * The MutatingWebhookConfigurations (admissionregistration.k8s.io/v1) whose rules match a write:
 * the candidates for fields that appeared between driftguard's entry and exit observers.
 */
import { DriftguardError } from '../errors.js';
import type { KubeClient } from './kube.js';

export const MUTATING_WEBHOOKS_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

export interface WebhookRule {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: string;
}

export interface MutatingWebhook {
  /** The MutatingWebhookConfiguration's name. */
  configuration: string;
  /** The webhook's own name (what the API server names in its messages). */
  name: string;
  rules: WebhookRule[];
  matchPolicy: 'Exact' | 'Equivalent';
  /** service path or URL of the webhook, when given. */
  endpoint?: string;
}

export interface WriteShape {
  operation: string;
  resource: { group: string; version: string; resource: string; subResource?: string; namespace?: string };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** A MutatingWebhookConfigurationList as the API server returns it -> webhooks; unknown shapes are skipped. */
export function parseWebhookList(body: unknown): MutatingWebhook[] {
  const out: MutatingWebhook[] = [];
  for (const item of Array.isArray(obj(body).items) ? (obj(body).items as unknown[]) : []) {
    const configuration = obj(obj(item).metadata).name;
    if (typeof configuration !== 'string') continue;
    for (const w of Array.isArray(obj(item).webhooks) ? (obj(item).webhooks as unknown[]) : []) {
      const hook = obj(w);
      if (typeof hook.name !== 'string') continue;
      const rules = (Array.isArray(hook.rules) ? (hook.rules as unknown[]) : []).map((r) => {
        const rule = obj(r);
        return {
          operations: strings(rule.operations),
          apiGroups: strings(rule.apiGroups),
          apiVersions: strings(rule.apiVersions),
          resources: strings(rule.resources),
          scope: typeof rule.scope === 'string' ? rule.scope : '*',
        };
      });
      const client = obj(hook.clientConfig);
      const endpoint =
        typeof client.url === 'string'
          ? client.url
          : typeof obj(client.service).path === 'string'
            ? (obj(client.service).path as string)
            : undefined;
      out.push({
        configuration,
        name: hook.name,
        rules,
        matchPolicy: hook.matchPolicy === 'Exact' ? 'Exact' : 'Equivalent',
        ...(endpoint === undefined ? {} : { endpoint }),
      });
    }
  }
  return out;
}

/** driftguard's own observers (service path /observe/...) are not candidates: they never mutate. */
function isDriftguardObserver(w: MutatingWebhook): boolean {
  if (w.endpoint === undefined) return false;
  const path = w.endpoint.startsWith('/')
    ? w.endpoint
    : (() => {
        try {
          return new URL(w.endpoint!).pathname;
        } catch {
          return '';
        }
      })();
  return path.startsWith('/observe/');
}

/**
 * resources semantics of admissionregistration/v1: "*" is every resource but no subresource,
 * "R/*" every subresource of R, "* /S" subresource S of every resource, "* / *" everything.
 */
function resourceMatches(patterns: readonly string[], resource: string, sub: string | undefined): boolean {
  return patterns.some((p) => {
    if (p === '*/*') return true;
    const slash = p.indexOf('/');
    if (sub === undefined) return slash < 0 && (p === '*' || p === resource);
    if (slash < 0) return false;
    const r = p.slice(0, slash);
    const s = p.slice(slash + 1);
    return (r === '*' || r === resource) && (s === '*' || s === sub);
  });
}

export function ruleMatches(rule: WebhookRule, write: WriteShape, matchPolicy: MutatingWebhook['matchPolicy']): boolean {
  const r = write.resource;
  const has = (list: readonly string[], v: string) => list.includes('*') || list.includes(v);
  if (!has(rule.operations, write.operation)) return false;
  if (!has(rule.apiGroups, r.group)) return false;
  // Equivalent (the v1 default) sends a webhook the request converted to a version it registered.
  if (matchPolicy === 'Exact' && !has(rule.apiVersions, r.version)) return false;
  const namespaced = r.namespace !== undefined && r.namespace !== '';
  if (rule.scope !== '*' && rule.scope !== (namespaced ? 'Namespaced' : 'Cluster')) return false;
  return resourceMatches(rule.resources, r.resource, r.subResource);
}

/** Webhooks other than driftguard's observers with a rule for this write. */
export function matchingWebhooks(webhooks: readonly MutatingWebhook[], write: WriteShape): MutatingWebhook[] {
  return webhooks.filter((w) => !isDriftguardObserver(w) && w.rules.some((rule) => ruleMatches(rule, write, w.matchPolicy)));
}

export async function listMutatingWebhooks(client: KubeClient): Promise<MutatingWebhook[]> {
  let res;
  try {
    res = await client.request('GET', MUTATING_WEBHOOKS_PATH);
  } catch (err) {
    throw new DriftguardError(
      'DG_CLUSTER_REQUEST',
      `cannot list MutatingWebhookConfigurations at ${client.server}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (res.status !== 200) {
    const message = typeof obj(res.body).message === 'string' ? `: ${obj(res.body).message as string}` : '';
    throw new DriftguardError('DG_CLUSTER_REQUEST', `listing MutatingWebhookConfigurations answered ${res.status}${message}`);
  }
  return parseWebhookList(res.body);
}
