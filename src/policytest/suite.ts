/**
 * The policy test suite format (driftguard-test.yaml): which policies, which requests, and what each
 * request must get. One zod schema is the source of both the validator and the published JSON
 * Schema (schema/driftguard-test.schema.json). See policies/README.md, "Testing policies".
 */
import { z } from '../zod.js';
import { REQUEST_STYLES, type RequestStyle } from '../admission/build.js';
import type { Diagnostic } from '../policy/diagnostics.js';
import { POLICY_API_VERSION } from '../policy/schema.js';
import { checkDocument, parseYamlDocuments, type DocPath, type Position } from '../policy/yamldoc.js';

export const SUITE_KIND = 'DriftPolicyTest';
export const SUITE_FILE_NAMES = ['driftguard-test.yaml', 'driftguard-test.yml'] as const;

const nonEmpty = z.string().check(z.minLength(1, 'must not be empty'));
const rfc3339 = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 time such as 2030-06-30T18:00:00Z' });

/** How a request was made (build.ts REQUEST_STYLES): sets the field manager, the subresource and the operation. */
export const VIA = Object.keys(REQUEST_STYLES) as [RequestStyle, ...RequestStyle[]];
export type Via = RequestStyle;

export const testActorSchema = z
  .strictObject({
    user: z.optional(nonEmpty).check(z.describe('A username, e.g. oidc:jane@example.com.')),
    groups: z.optional(z.array(nonEmpty)).check(z.describe('Groups of `user` (system:authenticated is added).')),
    serviceAccount: z
      .optional(z.string().check(z.regex(/^[^/\s]+\/[^/\s]+$/, 'must be NAMESPACE/NAME')))
      .check(z.describe('A ServiceAccount as NAMESPACE/NAME, with the groups the API server gives it.')),
    preset: z.optional(z.enum(['argocd', 'flux'])).check(z.describe('argocd: argocd-application-controller; flux: kustomize-controller.')),
  })
  .check(
    z.superRefine((a, ctx) => {
      const set = (['user', 'serviceAccount', 'preset'] as const).filter((k) => a[k] !== undefined);
      if (set.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: `an actor needs exactly one of user, serviceAccount, preset${set.length > 1 ? `; found ${set.join(', ')}` : ''}`,
        });
      }
      if (a.groups !== undefined && a.user === undefined)
        ctx.addIssue({ code: 'custom', path: ['groups'], message: 'groups go with user' });
    }),
    z.describe('Who makes the request.'),
  );

export const shortRequestSchema = z
  .strictObject({
    actor: testActorSchema,
    via: z
      .optional(z.enum(VIA))
      .check(z.describe('How the request was made: sets fieldManager, subresource and operation as kubectl and the controllers do.')),
    operation: z.optional(z.enum(['CREATE', 'UPDATE', 'DELETE'])).check(z.describe('Default: from `via`, else UPDATE.')),
    object: z
      .optional(nonEmpty)
      .check(
        z.describe('JSON or YAML file (relative to this suite): the object written (CREATE), or the stored object to patch (UPDATE).'),
      ),
    oldObject: z.optional(nonEmpty).check(z.describe('JSON or YAML file: the stored object (UPDATE, DELETE).')),
    namespace: z.optional(nonEmpty).check(z.describe('Put the object in this namespace.')),
    patch: z
      .optional(z.record(z.string(), z.unknown()))
      .check(z.describe('A JSON merge patch (RFC 7386), as `kubectl patch --type merge`.')),
    jsonPatch: z
      .optional(z.array(z.looseObject({ op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']), path: z.string() })))
      .check(z.describe('A JSON Patch (RFC 6902), as `kubectl patch --type json`.')),
    subResource: z
      .optional(z.enum(['scale', 'status']))
      .check(z.describe('scale builds Scale objects (no labels), as the API server does.')),
    fieldManager: z.optional(z.string()).check(z.describe('Overrides the field manager `via` sets.')),
    dryRun: z.optional(z.boolean()),
    apiVersion: z.optional(z.enum(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'])),
    parent: z
      .optional(z.enum(['known', 'unknown']))
      .check(
        z.describe(
          "For subResource scale: whether driftguard can learn the parent's labels (known, default) or not (unknown: `unresolved` decides).",
        ),
      ),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.object === undefined && r.oldObject === undefined)
        ctx.addIssue({ code: 'custom', message: 'a request needs `object` or `oldObject` (a file)' });
    }),
  );

export const STATUSES = ['skip', 'pass', 'fail', 'warn', 'audit', 'breakglass', 'error'] as const;

const oneOrMore = z.union([nonEmpty, z.array(nonEmpty).check(z.minLength(1))]);

export const expectSchema = z.strictObject({
  result: z
    .enum(['allowed', 'denied', 'warned'])
    .check(z.describe('allowed: admitted with no warning; warned: admitted with a warning; denied: refused.')),
  policy: z
    .optional(nonEmpty)
    .check(
      z.describe('The policy that gave this result (denied: failed it; warned: warned or broke the glass; allowed: passed or audited).'),
    ),
  policies: z
    .optional(z.record(z.string(), z.enum(STATUSES)))
    .check(z.describe('Exact result per policy: skip, pass, fail, warn, audit, breakglass, error.')),
  messageContains: z.optional(oneOrMore).check(z.describe('Text the denial message must contain.')),
  warningContains: z.optional(oneOrMore).check(z.describe('Text one of the warnings must contain.')),
  records: z
    .optional(z.number().check(z.int(), z.minimum(0)))
    .check(z.describe('How many violation records the request writes (dry runs write none; change-ledger records are not counted).')),
});

export const caseSchema = z
  .strictObject({
    name: z.optional(nonEmpty).check(z.describe('Shown in reports; defaults to the review file name.')),
    review: z.optional(nonEmpty).check(z.describe('An AdmissionReview JSON file, or a glob of them (e.g. captures/*.json).')),
    request: z.optional(shortRequestSchema),
    now: z.optional(rfc3339).check(z.describe('Evaluate as of this time (break-glass expiry).')),
    expect: z.optional(expectSchema).check(z.describe('Omit for captured reviews: they expect the response they got.')),
  })
  .check(
    z.superRefine((c, ctx) => {
      if ((c.review === undefined) === (c.request === undefined))
        ctx.addIssue({ code: 'custom', message: 'a case needs exactly one of `review` (a file) or `request` (the short form)' });
      if (c.request !== undefined && c.expect === undefined)
        ctx.addIssue({ code: 'custom', path: ['expect'], message: 'a short-form request needs `expect`' });
      if (c.request !== undefined && c.name === undefined)
        ctx.addIssue({ code: 'custom', path: ['name'], message: 'a short-form request needs a `name`' });
    }),
  );

export const suiteSchema = z.strictObject({
  apiVersion: z.literal(POLICY_API_VERSION, { message: `must be ${POLICY_API_VERSION}` }),
  kind: z.literal(SUITE_KIND, { message: `must be ${SUITE_KIND}` }),
  metadata: z.strictObject({ name: nonEmpty, description: z.optional(z.string()) }),
  policies: z
    .array(nonEmpty)
    .check(
      z.minLength(1, 'needs at least one policy file or directory'),
      z.describe('Policy files or directories, relative to this file.'),
    ),
  now: z.optional(rfc3339).check(z.describe("Default time for every case; without it, the command's --now or the current time.")),
  cluster: z
    .optional(z.array(nonEmpty))
    .check(z.describe('Object files that exist in the cluster: driftguard can look up their labels when a Scale names them.')),
  cases: z.array(caseSchema).check(z.minLength(1, 'needs at least one case')),
});

export type TestActor = z.infer<typeof testActorSchema>;
export type ShortRequest = z.infer<typeof shortRequestSchema>;
export type Expectation = z.infer<typeof expectSchema>;
export type TestCase = z.infer<typeof caseSchema>;

/** A case as a discriminated union: a review file (or glob), or a short-form request with its name and expectation. */
export type SuiteCase =
  | (Omit<TestCase, 'review' | 'request'> & { kind: 'review'; review: string })
  | (Omit<TestCase, 'review' | 'request' | 'name' | 'expect'> & {
      kind: 'request';
      request: ShortRequest;
      name: string;
      expect: Expectation;
    });

/** The union the schema guarantees (its refinements demand exactly one of review and request, and name and expect for a request). */
export function suiteCase(c: TestCase): SuiteCase {
  const { review, request, ...rest } = c;
  if (review !== undefined) return { ...rest, kind: 'review', review };
  if (request === undefined || c.name === undefined || c.expect === undefined)
    throw new Error('a suite case the schema accepted has neither a review nor a complete short-form request');
  return { ...rest, kind: 'request', request, name: c.name, expect: c.expect };
}
export type Suite = z.infer<typeof suiteSchema>;

/** The JSON Schema of a suite file, for editors. */
export function suiteJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(suiteSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://driftguard.io/schema/driftguard-test.schema.json',
    title: 'DriftPolicyTest',
    description: 'A driftguard policy test suite: policies, requests, and the result each request must get.',
  };
}

export interface ParsedSuite {
  suite: Suite;
  /** Where each case starts in the file. */
  caseAt(index: number): Position;
  locate(path: DocPath): Position;
}

let cachedJsonSchema: Record<string, unknown> | undefined;

/** A suite file's text -> the suite, or diagnostics at file:line:column (code DG_TEST_INVALID). */
export function parseSuiteText(text: string, file: string): { ok: true; parsed: ParsedSuite } | { ok: false; diagnostics: Diagnostic[] } {
  const yaml = parseYamlDocuments(text, file, 'DG_TEST_INVALID');
  if (yaml.diagnostics.length > 0) return { ok: false, diagnostics: yaml.diagnostics };
  const doc = yaml.docs[0];
  if (doc === undefined)
    return {
      ok: false,
      diagnostics: [{ file, line: 1, column: 1, severity: 'error', code: 'DG_TEST_INVALID', message: 'the suite file is empty' }],
    };
  if (yaml.docs.length > 1) {
    const second = yaml.docs[1]!.start;
    return {
      ok: false,
      diagnostics: [
        {
          file,
          ...second,
          severity: 'error',
          code: 'DG_TEST_INVALID',
          message: 'a suite file holds one document; put each suite in its own folder',
        },
      ],
    };
  }
  cachedJsonSchema ??= suiteJsonSchema();
  const checked = checkDocument(doc, file, { schema: suiteSchema, jsonSchema: cachedJsonSchema, code: 'DG_TEST_INVALID' });
  if (!checked.ok) return { ok: false, diagnostics: checked.diagnostics };
  return { ok: true, parsed: { suite: checked.data, caseAt: (i) => doc.locate(['cases', i]), locate: doc.locate } };
}
