/**
 * The DriftPolicy schema: the one source of truth. The runtime validator is this zod schema; the
 * published JSON Schema (schema/driftpolicy.schema.json, for editors) is generated from it by
 * `npm run schema`, and a test fails when the committed file is stale.
 */
import { z } from '../zod.js';
import type { ActorRef } from '../match/actors.js';

export const POLICY_API_VERSION = 'driftguard.io/v1alpha1';
export const POLICY_KIND = 'DriftPolicy';

/**
 * A keyed path (docs/keyed-paths.md): an RFC 6901 JSON Pointer ("" or "/"-separated tokens where
 * "~" is only followed by 0 or 1) in which a list's token may be followed by a selector naming one
 * item by key, [name=api] or [containerPort=8080,protocol=TCP] (a value bare or a JSON string).
 * A "[" in a token starts a selector; "]" alone is an ordinary character.
 */
const KEY_VALUE = String.raw`(?:"(?:[^"\\]|\\.)*"|[A-Za-z0-9._:@+-]+)`;
const SELECTOR = String.raw`\[[A-Za-z_][A-Za-z0-9_]*=${KEY_VALUE}(?:,[A-Za-z_][A-Za-z0-9_]*=${KEY_VALUE})*\]`;
const TOKEN_CHAR = String.raw`(?:[^~/[]|~[01])`;
const KEYED_PATH = new RegExp(String.raw`^(?:/(?:${TOKEN_CHAR}+(?:${SELECTOR})?|${TOKEN_CHAR}*))*$`);

/** The severities a report result may carry (the OpenReports and wg-policy CRDs' enum). */
export const REPORT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;

const nonEmpty = z.string().check(z.minLength(1, 'must not be empty'));

/** Its output is the ActorRef the matchers compile (match/actors.ts); tsc fails here if the two part. */
export const actorRefSchema: z.ZodMiniType<ActorRef> = z
  .strictObject({
    preset: z
      .optional(z.enum(['argocd', 'flux']))
      .check(z.describe('A GitOps controller: argocd (argocd-application-controller) or flux (kustomize-controller and helm-controller).')),
    namespace: z.optional(nonEmpty).check(z.describe('Namespace the preset controller runs in (argocd: argocd, flux: flux-system).')),
    serviceAccount: z
      .optional(z.string().check(z.regex(/^[^/\s]+\/[^/\s]+$/, 'must be NAMESPACE/NAME')))
      .check(z.describe('A ServiceAccount as NAMESPACE/NAME; matches system:serviceaccount:NAMESPACE:NAME.')),
    user: z.optional(nonEmpty).check(z.describe('A username, exact; `*` is a glob only where written.')),
    group: z.optional(nonEmpty).check(z.describe('A group, exact; `*` is a glob only where written.')),
  })
  .check(
    z.superRefine((a, ctx) => {
      const set = (['preset', 'serviceAccount', 'user', 'group'] as const).filter((k) => a[k] !== undefined);
      if (set.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            set.length === 0
              ? 'an actor needs exactly one of preset, serviceAccount, user, group'
              : `an actor takes exactly one of preset, serviceAccount, user, group; found ${set.join(', ')}`,
        });
      }
      if (a.namespace !== undefined && a.preset === undefined) {
        ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'namespace is only for a preset' });
      }
    }),
    z.describe('One actor: exactly one of preset, serviceAccount, user, group.'),
  );

const labelSelectorSchema = z.strictObject({
  matchLabels: z.optional(z.record(z.string(), z.string())),
  matchExpressions: z.optional(
    z.array(
      z
        .strictObject({
          key: nonEmpty,
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.optional(z.array(z.string())),
        })
        .check(
          z.superRefine((e, ctx) => {
            const needsValues = e.operator === 'In' || e.operator === 'NotIn';
            if (needsValues && (e.values === undefined || e.values.length === 0)) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} needs at least one value` });
            }
            if (!needsValues && e.values !== undefined && e.values.length > 0) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} takes no values` });
            }
          }),
        ),
    ),
  ),
});

const resourceMatchSchema = z.strictObject({
  apiGroups: z
    .array(z.string())
    .check(z.minLength(1, 'needs at least one group ("" is core, "*" any)'), z.describe('API groups: "" is core, "*" any.')),
  kinds: z.array(nonEmpty).check(z.minLength(1, 'needs at least one kind ("*" any)'), z.describe('Kinds, e.g. Deployment; "*" any.')),
  plurals: z
    .optional(
      z
        .array(
          z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be a resource name as `kubectl api-resources` lists it, e.g. rollouts')),
        )
        .check(z.minLength(1)),
    )
    .check(
      z.describe(
        'The resource names (plurals) of kinds outside the built-in table, e.g. rollouts for an Argo Rollout: what `driftguard manifests` registers without a cluster to ask.',
      ),
    ),
});

export const matchSchema = z.strictObject({
  resources: z.array(resourceMatchSchema).check(z.minLength(1, 'needs at least one entry')),
  namespaces: z.optional(z.array(nonEmpty)).check(z.describe('Namespace globs; omitted = every namespace and cluster-scoped objects.')),
  excludeNamespaces: z.optional(z.array(nonEmpty)).check(z.describe('Namespace globs that are never covered.')),
  selector: z.optional(labelSelectorSchema).check(z.describe('Standard label selector, read from oldObject for UPDATE and DELETE.')),
  managedBy: z
    .optional(z.array(z.enum(['argocd', 'flux'])).check(z.minLength(1)))
    .check(z.describe("Only objects carrying that tool's tracking marks.")),
  operations: z
    .optional(z.array(z.enum(['CREATE', 'UPDATE', 'DELETE'])).check(z.minLength(1)))
    .check(z.describe('Default: CREATE, UPDATE, DELETE.')),
});

const keyedPath = z
  .string()
  .check(
    z.regex(
      KEYED_PATH,
      'must be a JSON Pointer such as /spec/replicas (escape "~" as ~0 and "/" as ~1); a list item by key is written /spec/template/spec/containers[name=api]/image, a value with characters other than letters, digits and ._:@+- in double quotes',
    ),
  );

export const exceptionSchema = z
  .strictObject({
    paths: z
      .optional(z.array(keyedPath))
      .check(
        z.describe(
          'JSON Pointers or keyed paths (/spec/template/spec/containers[name=api]/image); each covers the path and everything below it.',
        ),
      ),
    jsonPaths: z.optional(z.array(nonEmpty)).check(z.describe('JSONPath expressions (jsonpath-plus) selecting exempt fields.')),
    actors: z.optional(z.array(actorRefSchema)).check(z.describe('Who the exception is for; omitted = anyone.')),
  })
  .check(
    z.superRefine((e, ctx) => {
      if ((e.paths?.length ?? 0) + (e.jsonPaths?.length ?? 0) === 0) {
        ctx.addIssue({ code: 'custom', message: 'an exception needs at least one entry in paths or jsonPaths' });
      }
    }),
  );

export const breakGlassSchema = z.strictObject({
  actors: z.array(actorRefSchema).check(z.minLength(1, 'needs at least one actor')),
  expires: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time such as 2030-06-30T18:00:00Z' }),
  reason: nonEmpty.check(z.describe('Why the glass was broken: an incident or ticket.')),
});

export const policySpecSchema = z.strictObject({
  mode: z._default(z.enum(['enforce', 'warn', 'audit']), 'enforce'),
  match: matchSchema,
  unresolved: z._default(z.enum(['match', 'skip']), 'match').check(z.describe('When labels cannot be known (Scale): match fails closed.')),
  systemActors: z._default(z.enum(['allow', 'deny']), 'allow').check(z.describe('Whether the control plane may change covered objects.')),
  allow: z._default(z.array(actorRefSchema), []),
  exceptions: z._default(z.array(exceptionSchema), []),
  breakGlass: z._default(z.array(breakGlassSchema), []),
  message: z.optional(z.string()).check(z.describe('Appended to every denial: tell people what to do instead.')),
  severity: z
    .optional(z.enum(REPORT_SEVERITIES))
    .check(z.describe("The severity of this policy's results in report objects (serve --reports; docs/reports.md).")),
  observe: z
    ._default(z.enum(['full', 'none']), 'full')
    .check(
      z.describe(
        "full: the entry observer is called for covered creates and updates, so fields set by mutating webhooks are told from the requester's; none: prevention only, one webhook call per write (docs/performance.md).",
      ),
    ),
});

export const policySchema = z.strictObject({
  apiVersion: z.literal(POLICY_API_VERSION, { message: `must be ${POLICY_API_VERSION}` }),
  kind: z.literal(POLICY_KIND, { message: `must be ${POLICY_KIND}` }),
  metadata: z.strictObject({
    name: z.string().check(z.regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")')),
    labels: z.optional(z.record(z.string(), z.string())),
    annotations: z.optional(z.record(z.string(), z.string())),
  }),
  spec: policySpecSchema,
});

export type DriftPolicy = z.infer<typeof policySchema>;
export type DriftPolicySpec = z.infer<typeof policySpecSchema>;
export type PolicyException = z.infer<typeof exceptionSchema>;
export type BreakGlass = z.infer<typeof breakGlassSchema>;
export type PolicyMode = DriftPolicySpec['mode'];
export type ObserveMode = DriftPolicySpec['observe'];

/** The JSON Schema published for editors (yaml-language-server). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://driftguard.io/schema/driftpolicy.schema.json',
    title: 'DriftPolicy',
    description: 'A driftguard policy: which objects only GitOps may change, and the exceptions.',
  };
}
