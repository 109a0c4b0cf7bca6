/**
 * The webhook configurations, as data: the single source for `driftguard manifests` and for
 * manifests/base/webhooks.yaml (test/ops/manifests.test.ts keeps the file equal to this).
 *
 * Why each setting (docs/kubernetes.md, Webhook configuration):
 * - rules name `deployments/scale` and `statefulsets/scale`: a rule for `deployments` alone never sees
 *   `kubectl scale`, and an objectSelector would never match a Scale (it has no labels);
 * - namespaceSelector leaves out kube-system and driftguard's own namespace: with failurePolicy Fail the
 *   webhook could otherwise block the control plane or its own pods (the classic lockout);
 * - sideEffects NoneOnDryRun: dry runs are judged but never recorded; anything else breaks Argo CD's
 *   server-side diff and Flux's dry-run apply;
 * - matchPolicy Equivalent: a request through another API version is converted, not missed;
 * - the observers sort first and last by name (mutating webhooks run in name order) and fail open.
 */
import { stringify } from 'yaml';

export interface WebhookOptions {
  service: string;
  namespace: string;
  /** The CA that signed the serving certificate, base64 of its PEM; omitted when something injects it. */
  caBundle?: string;
  /** The Service port (443 in manifests/base/service.yaml). */
  port?: number;
}

export interface WebhookRule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope: 'Namespaced' | 'Cluster' | '*';
}

/**
 * The kinds the sample policies cover (policies/), with the scale subresource of those that have one.
 * A policy for another kind needs a rule here too; a rule for a kind no policy covers costs a round
 * trip per write and nothing else.
 */
export const COVERED_RULES: readonly WebhookRule[] = [
  {
    apiGroups: ['apps'],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    resources: ['deployments', 'deployments/scale', 'statefulsets', 'statefulsets/scale', 'daemonsets'],
    scope: 'Namespaced',
  },
  {
    apiGroups: [''],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    resources: ['configmaps', 'secrets', 'services'],
    scope: 'Namespaced',
  },
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What is wrong with a Service or namespace name (an RFC 1123 label), or undefined when it is fine. */
export function dnsLabelProblem(value: string): string | undefined {
  if (value.length > 63) return `${JSON.stringify(value)} is longer than 63 characters`;
  if (!DNS_LABEL.test(value))
    return `${JSON.stringify(value)} is not a DNS label (lowercase letters, digits and '-', starting and ending with a letter or digit)`;
  return undefined;
}

/** Namespaces no driftguard webhook is ever called for. */
export function excludedNamespaces(namespace: string): string[] {
  return [...new Set(['kube-system', namespace])];
}

export const VALIDATING_NAME = 'driftguard';
/** '0-' sorts before ordinary names, 'zzz-' after them: the observers bracket every other mutating webhook. */
export const OBSERVE_ENTRY_NAME = '0-driftguard-observe-entry';
export const OBSERVE_EXIT_NAME = 'zzz-driftguard-observe-exit';

/** The validating webhook answers within 5 s or the API server applies failurePolicy Fail. */
export const VALIDATE_TIMEOUT_SECONDS = 5;
/** Observers fail open, but the API server still waits this long for one: keep it short. */
export const OBSERVE_TIMEOUT_SECONDS = 2;

type KubeObject = Record<string, unknown>;

function webhook(opts: WebhookOptions, name: string, path: string, extra: Record<string, unknown>): Record<string, unknown> {
  const clientConfig: Record<string, unknown> = {
    service: { name: opts.service, namespace: opts.namespace, path, port: opts.port ?? 443 },
  };
  if (opts.caBundle !== undefined) clientConfig.caBundle = opts.caBundle;
  return {
    name,
    clientConfig,
    rules: COVERED_RULES.map((r) => ({
      ...r,
      apiGroups: [...r.apiGroups],
      apiVersions: [...r.apiVersions],
      operations: [...r.operations],
      resources: [...r.resources],
    })),
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excludedNamespaces(opts.namespace) }],
    },
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
      webhooks: [webhook(opts, 'validate.driftguard.io', '/validate', { failurePolicy: 'Fail', timeoutSeconds: VALIDATE_TIMEOUT_SECONDS })],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: OBSERVE_ENTRY_NAME, labels: { ...LABELS } },
      webhooks: [
        webhook(opts, 'observe-entry.driftguard.io', '/observe/entry', {
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
        webhook(opts, 'observe-exit.driftguard.io', '/observe/exit', {
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
