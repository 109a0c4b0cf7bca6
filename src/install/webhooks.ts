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
 * - the entry observer sorts first by name (mutating webhooks run in name order) and fails open; it is
 *   sent only the covered creates and updates of policies with `observe: full`
 *   (src/policy/observer-registration.ts), and left out with `observe: none`. The exit observer of
 *   earlier installs is folded into the validating call, which sees the object after every mutating
 *   webhook (docs/api-server.md, "What the exit observer added"): two calls per observed write, one
 *   per write with `observe: none`.
 */
import { stringify } from 'yaml';
import type { RegisteredWebhook as RegisteredWebhookShape } from '../policy/coverage.js';
import type { Registration } from '../policy/registration.js';
import type { ObserveMode } from '../policy/schema.js';

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
  /** What the validating webhook is sent: derived from the policies (src/policy/registration.ts). */
  registration: Pick<Registration, 'rules' | 'matchConditions'>;
  /** What the entry observer is sent (src/policy/observer-registration.ts); default: `registration`. */
  observerRegistration?: Pick<Registration, 'rules' | 'matchConditions'>;
  /** `none`: no observer configuration at all, prevention alone (one call per write). Default `full`. */
  observe?: ObserveMode;
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
/** '0-' sorts before ordinary names: the entry observer sees the object before every other mutating webhook. */
export const OBSERVE_ENTRY_NAME = '0-driftguard-observe-entry';

/** The validating webhook answers within 5 s or the API server applies failurePolicy Fail. */
export const VALIDATE_TIMEOUT_SECONDS = 5;
/** Observers fail open, but the API server still waits this long for one: keep it short. */
const OBSERVE_TIMEOUT_SECONDS = 2;

/** Each configuration driftguard ships and the webhook in it that is driftguard's. */
export const DRIFTGUARD_WEBHOOKS = [
  { kind: 'ValidatingWebhookConfiguration', configuration: VALIDATING_NAME, webhook: 'validate.driftguard.io' },
  { kind: 'MutatingWebhookConfiguration', configuration: OBSERVE_ENTRY_NAME, webhook: 'observe-entry.driftguard.io' },
] as const;

type KubeObject = Record<string, unknown>;

function webhook(
  opts: WebhookOptions,
  registration: Pick<Registration, 'rules' | 'matchConditions'>,
  name: string,
  path: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const clientConfig: Record<string, unknown> =
    opts.url === undefined
      ? { service: { name: opts.service, namespace: opts.namespace, path, port: opts.port ?? 443 } }
      : { url: `${opts.url}${path}` };
  if (opts.caBundle !== undefined) clientConfig.caBundle = opts.caBundle;
  return {
    name,
    clientConfig,
    rules: structuredClone(registration.rules),
    namespaceSelector: lockoutSelector(opts.namespace),
    ...(registration.matchConditions.length === 0 ? {} : { matchConditions: structuredClone(registration.matchConditions) }),
    matchPolicy: 'Equivalent',
    sideEffects: 'NoneOnDryRun',
    admissionReviewVersions: ['v1', 'v1beta1'],
    ...extra,
  };
}

const LABELS = { 'app.kubernetes.io/name': 'driftguard', 'app.kubernetes.io/component': 'webhook' };

/** The configurations: the validating webhook and, unless `observe: none`, the entry observer. */
export function webhookConfigurations(opts: WebhookOptions): KubeObject[] {
  const validating: KubeObject = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: VALIDATING_NAME, labels: { ...LABELS } },
    webhooks: [
      webhook(opts, opts.registration, DRIFTGUARD_WEBHOOKS[0].webhook, '/validate', {
        failurePolicy: 'Fail',
        timeoutSeconds: VALIDATE_TIMEOUT_SECONDS,
      }),
    ],
  };
  if (opts.observe === 'none') return [validating];
  return [
    validating,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: OBSERVE_ENTRY_NAME, labels: { ...LABELS } },
      webhooks: [
        webhook(opts, opts.observerRegistration ?? opts.registration, DRIFTGUARD_WEBHOOKS[1].webhook, '/observe/entry', {
          failurePolicy: 'Ignore',
          timeoutSeconds: OBSERVE_TIMEOUT_SECONDS,
          reinvocationPolicy: 'Never',
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
