/**
 * Offline validation of Kubernetes objects against the Kubernetes schemas, from npm packages only:
 * - kubernetes-models (and @kubernetes-models/cert-manager): the OpenAPI schemas compiled with ajv,
 *   so types, required fields, enums and formats (quantities, int-or-string) are checked;
 * - @kubernetes/client-node's generated models: every field name each type has, so an unknown or
 *   misspelt field fails too (the OpenAPI schemas allow extra fields; the API server's strict field
 *   validation, which `kubectl apply` uses, does not).
 */
import * as k8s from '@kubernetes/client-node';

type ModelClass = new (data: unknown) => { validate(): void };

/** apiVersion -> the module with one model class per kind. */
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'rbac.authorization.k8s.io/v1': () => import('kubernetes-models/rbac.authorization.k8s.io/v1'),
  'admissionregistration.k8s.io/v1': () => import('kubernetes-models/admissionregistration.k8s.io/v1'),
  'cert-manager.io/v1': () => import('@kubernetes-models/cert-manager/cert-manager.io/v1'),
};

const CUSTOM_RESOURCES = new Set(['cert-manager.io/v1']);

interface AttributeType {
  baseName: string;
  type: string;
}

const LEAF = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

function attributes(typeName: string): AttributeType[] | undefined {
  const cls = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeType[] } | undefined>)[typeName];
  return cls?.getAttributeTypeMap?.();
}

/** JSON Pointer-ish paths of every field the client-node models do not know. */
function unknownFields(value: unknown, typeName: string, at = ''): string[] {
  if (value === null || value === undefined || LEAF.has(typeName)) return [];
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${at}/${i}`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map)
    return typeof value === 'object' ? Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${at}/${k}`)) : [];
  const attrs = attributes(typeName);
  if (attrs === undefined) return [`${at || '/'}: no model ${typeName} to check field names against`];
  if (typeof value !== 'object' || Array.isArray(value)) return [];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const attr = attrs.find((a) => a.baseName === key);
    if (attr === undefined) problems.push(`${at}/${key}: unknown field in ${typeName}`);
    else problems.push(...unknownFields(v, attr.type, `${at}/${key}`));
  }
  return problems;
}

interface SchemaError {
  instancePath: string;
  keyword: string;
  params?: { format?: string };
  message?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function at(obj: unknown, pointer: string): unknown {
  let v = obj;
  for (const part of pointer.split('/').slice(1))
    v = (v as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/**
 * kustomize wraps the base64 of generated Secrets (and what replacements copy from them) across
 * lines. The API server decodes []byte fields with Go's base64 decoder, which skips newlines, so a
 * wrapped value is valid there; the schema's "byte" format is stricter than that.
 */
function wrappedBase64(obj: unknown, e: SchemaError): boolean {
  if (e.keyword !== 'format' || e.params?.format !== 'byte') return false;
  const v = at(obj, e.instancePath);
  return typeof v === 'string' && BASE64.test(v.replace(/[\r\n]/g, ''));
}

/** Every problem with one object; [] when it is valid. */
export async function validateObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['apiVersion and kind are required'];
  const load = MODELS[apiVersion];
  if (load === undefined) return [`no schema for apiVersion ${apiVersion}`];
  const Model = (await load())[kind] as ModelClass | undefined;
  if (Model === undefined) return [`no schema for ${apiVersion} ${kind}`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (errors === undefined) problems.push(String(err));
    else problems.push(...errors.filter((e) => !wrappedBase64(obj, e)).map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`));
  }
  // Built-in kinds of version v1 are V1<Kind> in client-node; custom resources (cert-manager) have no
  // client-node model and are checked by their CRD schema above only.
  if (!CUSTOM_RESOURCES.has(apiVersion)) problems.push(...unknownFields(obj, `V1${kind}`));
  return problems;
}
