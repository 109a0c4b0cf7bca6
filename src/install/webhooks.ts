/**
 * The webhook configurations, as data: the single source for `driftguard manifests` and for
 * manifests/base/webhooks.yaml (test/ops/manifests.test.ts keeps the file equal to this).
 *
 * Why each setting (docs/kubernetes.md, Webhook configuration):
 * - rules and matchConditions come from the policies (src/policy/registration.ts): the scale subresource of every
 *   kind that has one (a rule for `deployments` alone never sees `kubectl scale`, and an
 *   objectSelector would never match a Scale: it has no labels), and no namespace no policy covers;
 * - namespaceSelector leaves out kube-system and driftguard's own namespace: with failurePolicy Fail the
 *   webhook could otherwise block the control plane or its own pods (the classic lockout);
 * - sideEffects NoneOnDryRun: dry runs are judged but never recorded; anything else breaks Argo CD's
 *   server-side diff and Flux's dry-run apply;
 * - matchPolicy Equivalent: a request through another API version is converted, not missed;
 * - the observers sort first and last by name (mutating webhooks run in name order) and fail open.
 */
import { stringify } from 'yaml';
import type { RegisteredWebhook as RegisteredWebhookShape } from '../policy/coverage.js';
import type { Registration } from '../policy/registration.js';

export interface WebhookOptions {
  service: string;
  namespace: string;
  /** The CA that signed the serving certificate, base64 of its PEM; omitted when something injects it. */
  caBundle?: string;
  /** The Service port (443 in manifests/base/service.yaml). */
  port?: number;
  /**
   * Call driftguard at this base URL (`https://HOST:PORT`, checked by webhookBaseUrl) instead of the
   * Service: each webhook's clientConfig is `url: BASE + its path`, with no `service`.
   */
  url?: string;
  /** What the webhooks send: derived from the policies (src/policy/registration.ts). */
  registration: Pick<Registration, 'rules' | 'matchConditions'>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What is wrong with a Service or namespace name (an RFC 1123 label), or undefined when it is fine. */
export function dnsLabelProblem(value: string): string | undefined {
  if (value.length > 63) return `${JSON.stringify(value)} is longer than 63 characters`;
  if (!DNS_LABEL.test(value))
    return `${JSON.stringify(value)} is not a DNS label (lowercase letters, digits and '-', starting and ending with a letter or digit)`;
  return undefined;
}

/** Namespaces no driftguard webhook is ever called for. */
function excludedNamespaces(namespace: string): string[] {
  return [...new Set(['kube-system', namespace])];
}

/** The namespaceSelector every driftguard webhook keeps, whatever the policies say. */
function lockoutSelector(namespace: string): Record<string, unknown> {
  return { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excludedNamespaces(namespace) }] };
}

export const VALIDATING_NAME = 'driftguard';
/** '0-' sorts before ordinary names, 'zzz-' after them: the observers bracket every other mutating webhook. */
export const OBSERVE_ENTRY_NAME = '0-driftguard-observe-entry';
export const OBSERVE_EXIT_NAME = 'zzz-driftguard-observe-exit';

/** The validating webhook answers within 5 s or the API server applies failurePolicy Fail. */
export const VALIDATE_TIMEOUT_SECONDS = 5;
/** Observers fail open, but the API server still waits this long for one: keep it short. */
const OBSERVE_TIMEOUT_SECONDS = 2;

/** Each configuration driftguard ships and the webhook in it that is driftguard's. */
export const DRIFTGUARD_WEBHOOKS = [
  { kind: 'ValidatingWebhookConfiguration', configuration: VALIDATING_NAME, webhook: 'validate.driftguard.io' },
  { kind: 'MutatingWebhookConfiguration', configuration: OBSERVE_ENTRY_NAME, webhook: 'observe-entry.driftguard.io' },
  { kind: 'MutatingWebhookConfiguration', configuration: OBSERVE_EXIT_NAME, webhook: 'observe-exit.driftguard.io' },
] as const;

type KubeObject = Record<string, unknown>;

function webhook(opts: WebhookOptions, name: string, path: string, extra: Record<string, unknown>): Record<string, unknown> {
  const clientConfig: Record<string, unknown> =
    opts.url === undefined
      ? { service: { name: opts.service, namespace: opts.namespace, path, port: opts.port ?? 443 } }
      : { url: `${opts.url}${path}` };
  if (opts.caBundle !== undefined) clientConfig.caBundle = opts.caBundle;
  return {
    name,
    clientConfig,
    rules: structuredClone(opts.registration.rules),
    namespaceSelector: lockoutSelector(opts.namespace),
    ...(opts.registration.matchConditions.length === 0 ? {} : { matchConditions: structuredClone(opts.registration.matchConditions) }),
    matchPolicy: 'Equivalent',
    sideEffects: 'NoneOnDryRun',
    admissionReviewVersions: ['v1', 'v1beta1'],
    ...extra,
  };
}

const LABELS = { 'app.kubernetes.io/name': 'driftguard', 'app.kubernetes.io/component': 'webhook' };

/** The three configurations: the validating webhook and the two attribution observers. */
export function webhookConfigurations(opts: WebhookOptions): KubeObject[] {
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: VALIDATING_NAME, labels: { ...LABELS } },
      webhooks: [
        webhook(opts, DRIFTGUARD_WEBHOOKS[0].webhook, '/validate', { failurePolicy: 'Fail', timeoutSeconds: VALIDATE_TIMEOUT_SECONDS }),
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: OBSERVE_ENTRY_NAME, labels: { ...LABELS } },
      webhooks: [
        webhook(opts, DRIFTGUARD_WEBHOOKS[1].webhook, '/observe/entry', {
          failurePolicy: 'Ignore',
          timeoutSeconds: OBSERVE_TIMEOUT_SECONDS,
          reinvocationPolicy: 'Never',
        }),
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: OBSERVE_EXIT_NAME, labels: { ...LABELS } },
      webhooks: [
        webhook(opts, DRIFTGUARD_WEBHOOKS[2].webhook, '/observe/exit', {
          failurePolicy: 'Ignore',
          timeoutSeconds: OBSERVE_TIMEOUT_SECONDS,
          // Called again when a webhook that ran after it changed the object: it sees the final state.
          reinvocationPolicy: 'IfNeeded',
        }),
      ],
    },
  ];
}

/** A multi-document YAML stream, as kubectl apply -f - reads it. */
export function toYamlStream(objects: readonly unknown[], header?: string): string {
  const docs = objects.map((o) => stringify(o, { lineWidth: 0 }));
  return `${header === undefined ? '' : `${header.trimEnd()}\n`}${docs.map((d) => `---\n${d}`).join('')}`;
}

/** driftguard's validating webhook among Kubernetes objects (a configuration named VALIDATING_NAME). */
export function findValidatingWebhook(objects: readonly unknown[]): RegisteredWebhookShape | undefined {
  for (const o of objects) {
    const c = o as { kind?: unknown; metadata?: { name?: unknown }; webhooks?: unknown } | null;
    if (c?.kind !== 'ValidatingWebhookConfiguration' || c.metadata?.name !== VALIDATING_NAME || !Array.isArray(c.webhooks)) continue;
    const w = (c.webhooks as Array<{ name?: unknown }>).find((x) => x?.name === DRIFTGUARD_WEBHOOKS[0].webhook);
    if (w !== undefined) return w as RegisteredWebhookShape;
  }
  return undefined;
}
