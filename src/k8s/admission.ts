/**
 * AdmissionReview shapes as the API server sends them (admission.k8s.io/v1 and v1beta1 share the
 * same fields). See docs/kubernetes.md (AdmissionReview): object/oldObject/options arrive as null when absent.
 */
import { z } from '../zod.js';

export const ADMISSION_V1 = 'admission.k8s.io/v1';
export const ADMISSION_V1BETA1 = 'admission.k8s.io/v1beta1';
export type AdmissionApiVersion = typeof ADMISSION_V1 | typeof ADMISSION_V1BETA1;

/**
 * What a request is, as one zod schema: AdmissionRequest and the types in it are inferred from it,
 * and admission/review.ts parseReview checks every review with it, so the engine never meets a
 * wrong type (fuzzed in test/hardness). Each check carries the clause a malformed review's answer
 * shows after the field's path ("request.userInfo.username must be a string"). Objects keep every
 * field the schema does not name (loose): they are opaque JSON past the fields driftguard reads.
 */
const string = z.string({ error: 'must be a string' });
const optionalString = z.optional(string);
/**
 * Labels and annotations: an object of strings, checked by one loop rather than z.record, which
 * runs two schemas per entry and costs more than the rest of a request's checks together
 * (`npm run bench:admission-parse`, docs/performance.md).
 */
function isStringMap(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const value of Object.values(v)) if (typeof value !== 'string') return false;
  return true;
}
const stringMap = z.optional(z.custom<Record<string, string>>(isStringMap, { error: 'must be an object of strings' }));

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

const groupVersionKind = z.object({ group: string, version: string, kind: string }, { error: 'must be an object' });
const groupVersionResource = z.object({ group: string, version: string, resource: string }, { error: 'must be an object' });

const userInfoSchema = z.object(
  {
    username: string,
    uid: optionalString,
    groups: z.optional(z.array(string, { error: 'must be a list of strings' })),
    extra: z.optional(z.record(string, z.array(string, { error: 'must be a list of strings' }), { error: 'must be an object' })),
  },
  { error: 'must be an object' },
);
export type UserInfo = z.infer<typeof userInfoSchema>;

const objectMetaSchema = z.looseObject(
  {
    name: optionalString,
    generateName: optionalString,
    namespace: optionalString,
    uid: optionalString,
    resourceVersion: optionalString,
    generation: z.optional(z.number({ error: 'must be a number' })),
    labels: stringMap,
    annotations: stringMap,
  },
  { error: 'must be an object' },
);

const kubeObjectSchema = z.looseObject(
  { apiVersion: optionalString, kind: optionalString, metadata: z.optional(objectMetaSchema) },
  { error: 'must be an object or null' },
);
/** A Kubernetes object as far as driftguard reads it; everything else is opaque JSON. */
export type KubeObject = z.infer<typeof kubeObjectSchema>;

/** The API server sends null for an absent object or options (docs/kubernetes.md); absent is read as null too. */
const nullableObject = z._default(z.nullable(kubeObjectSchema), null);

export const admissionRequestSchema = z.looseObject({
  uid: z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must be a non-empty string' })),
  operation: z.enum(OPERATIONS, { error: 'must be CREATE, UPDATE, DELETE or CONNECT' }),
  kind: groupVersionKind,
  resource: groupVersionResource,
  subResource: optionalString,
  requestKind: z.optional(groupVersionKind),
  requestResource: z.optional(groupVersionResource),
  requestSubResource: optionalString,
  name: optionalString,
  namespace: optionalString,
  userInfo: userInfoSchema,
  object: nullableObject,
  oldObject: nullableObject,
  dryRun: z.optional(z.boolean({ error: 'must be a boolean' })),
  options: z._default(z.nullable(z.record(z.string(), z.unknown(), { error: 'must be an object or null' })), null),
});
export type AdmissionRequest = z.infer<typeof admissionRequestSchema>;

export interface AdmissionReviewRequest {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  request: AdmissionRequest;
}

interface StatusResult {
  code?: number;
  message?: string;
  reason?: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: StatusResult;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
  patch?: string;
  patchType?: 'JSONPatch';
}

export interface AdmissionReviewResponse {
  apiVersion: AdmissionApiVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}
