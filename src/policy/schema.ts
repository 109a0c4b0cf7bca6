/**
 * The DriftPolicy schema: the one source of truth. The runtime validator is this zod schema; the
 * published JSON Schema (schema/driftpolicy.schema.json, for editors) is generated from it by
 * `npm run schema`, and a test fails when the committed file is stale.
 */
import { z } from 'zod';
import type { ActorRef } from '../match/actors.js';

export const POLICY_API_VERSION = 'driftguard.io/v1alpha1';
export const POLICY_KIND = 'DriftPolicy';

/** RFC 6901 JSON Pointer: "" or "/"-separated tokens where "~" is only followed by 0 or 1. */
const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;

const nonEmpty = z.string().min(1, 'must not be empty');

/** Its output is the ActorRef the matchers compile (match/actors.ts); tsc fails here if the two part. */
export const actorRefSchema: z.ZodType<ActorRef> = z
  .strictObject({
    preset: z
      .enum(['argocd', 'flux'])
      .optional()
      .describe('A GitOps controller: argocd (argocd-application-controller) or flux (kustomize-controller and helm-controller).'),
    namespace: nonEmpty.optional().describe('Namespace the preset controller runs in (argocd: argocd, flux: flux-system).'),
    serviceAccount: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, 'must be NAMESPACE/NAME')
      .optional()
      .describe('A ServiceAccount as NAMESPACE/NAME; matches system:serviceaccount:NAMESPACE:NAME.'),
    user: nonEmpty.optional().describe('A username, exact; `*` is a glob only where written.'),
    group: nonEmpty.optional().describe('A group, exact; `*` is a glob only where written.'),
  })
  .superRefine((a, ctx) => {
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
  })
  .describe('One actor: exactly one of preset, serviceAccount, user, group.');

const labelSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({
          key: nonEmpty,
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        })
        .superRefine((e, ctx) => {
          const needsValues = e.operator === 'In' || e.operator === 'NotIn';
          if (needsValues && (e.values === undefined || e.values.length === 0)) {
            ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} needs at least one value` });
          }
          if (!needsValues && e.values !== undefined && e.values.length > 0) {
            ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${e.operator} takes no values` });
          }
        }),
    )
    .optional(),
});

const resourceMatchSchema = z.strictObject({
  apiGroups: z.array(z.string()).min(1, 'needs at least one group ("" is core, "*" any)').describe('API groups: "" is core, "*" any.'),
  kinds: z.array(nonEmpty).min(1, 'needs at least one kind ("*" any)').describe('Kinds, e.g. Deployment; "*" any.'),
});

export const matchSchema = z.strictObject({
  resources: z.array(resourceMatchSchema).min(1, 'needs at least one entry'),
  namespaces: z.array(nonEmpty).optional().describe('Namespace globs; omitted = every namespace and cluster-scoped objects.'),
  excludeNamespaces: z.array(nonEmpty).optional().describe('Namespace globs that are never covered.'),
  selector: labelSelectorSchema.optional().describe('Standard label selector, read from oldObject for UPDATE and DELETE.'),
  managedBy: z
    .array(z.enum(['argocd', 'flux']))
    .min(1)
    .optional()
    .describe("Only objects carrying that tool's tracking marks."),
  operations: z
    .array(z.enum(['CREATE', 'UPDATE', 'DELETE']))
    .min(1)
    .optional()
    .describe('Default: CREATE, UPDATE, DELETE.'),
});

const jsonPointer = z.string().regex(JSON_POINTER, 'must be a JSON Pointer such as /spec/replicas (escape "~" as ~0 and "/" as ~1)');

export const exceptionSchema = z
  .strictObject({
    paths: z.array(jsonPointer).optional().describe('JSON Pointers; each covers the path and everything below it.'),
    jsonPaths: z.array(nonEmpty).optional().describe('JSONPath expressions (jsonpath-plus) selecting exempt fields.'),
    actors: z.array(actorRefSchema).optional().describe('Who the exception is for; omitted = anyone.'),
  })
  .superRefine((e, ctx) => {
    if ((e.paths?.length ?? 0) + (e.jsonPaths?.length ?? 0) === 0) {
      ctx.addIssue({ code: 'custom', message: 'an exception needs at least one entry in paths or jsonPaths' });
    }
  });

export const breakGlassSchema = z.strictObject({
  actors: z.array(actorRefSchema).min(1, 'needs at least one actor'),
  expires: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time such as 2026-12-01T00:00:00Z' }),
  reason: nonEmpty.describe('Why the glass was broken: an incident or ticket.'),
});

export const policySpecSchema = z.strictObject({
  mode: z.enum(['enforce', 'warn', 'audit']).default('enforce'),
  match: matchSchema,
  unresolved: z.enum(['match', 'skip']).default('match').describe('When labels cannot be known (Scale): match fails closed.'),
  systemActors: z.enum(['allow', 'deny']).default('allow').describe('Whether the control plane may change covered objects.'),
  allow: z.array(actorRefSchema).default([]),
  exceptions: z.array(exceptionSchema).default([]),
  breakGlass: z.array(breakGlassSchema).default([]),
  message: z.string().optional().describe('Appended to every denial: tell people what to do instead.'),
});

export const policySchema = z.strictObject({
  apiVersion: z.literal(POLICY_API_VERSION, { message: `must be ${POLICY_API_VERSION}` }),
  kind: z.literal(POLICY_KIND, { message: `must be ${POLICY_KIND}` }),
  metadata: z.strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")'),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: policySpecSchema,
});

export type DriftPolicy = z.infer<typeof policySchema>;
export type DriftPolicySpec = z.infer<typeof policySpecSchema>;
export type PolicyException = z.infer<typeof exceptionSchema>;
export type BreakGlass = z.infer<typeof breakGlassSchema>;
export type PolicyMode = DriftPolicySpec['mode'];

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
