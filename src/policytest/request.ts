/**
 * The short form of a test request -> the AdmissionReview the API server would send
 * (../admission/build.ts does the faithful part: Scale objects, options, null objects, fresh uid).
 */
import jsonpatch from 'fast-json-patch';
import {
  asUpdated,
  buildReview,
  REQUEST_STYLES,
  serviceAccount,
  user,
  withRolloutRestart,
  type RequestStyleSpec,
} from '../admission/build.js';
import type { AdmissionReviewRequest, KubeObject, UserInfo } from '../k8s/admission.js';
import { PRESETS } from '../match/actors.js';
import { DriftguardError } from '../errors.js';
import type { ShortRequest, TestActor } from './suite.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON merge patch (RFC 7386, section 2): null removes a member, maps merge, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function actorUserInfo(actor: TestActor): UserInfo {
  if (actor.serviceAccount !== undefined) {
    const [ns, name] = actor.serviceAccount.split('/') as [string, string];
    return serviceAccount(ns, name);
  }
  if (actor.preset !== undefined) {
    const p = PRESETS[actor.preset];
    return serviceAccount(p.namespace, p.serviceAccounts[0]);
  }
  return user(actor.user ?? '', actor.groups ?? []);
}

function inNamespace(obj: KubeObject, namespace: string | undefined): KubeObject {
  if (namespace === undefined) return obj;
  return { ...obj, metadata: { ...obj.metadata, namespace } };
}

function patched(obj: KubeObject, req: ShortRequest): KubeObject {
  let out: KubeObject = obj;
  if (req.patch !== undefined) out = mergePatch(out, req.patch) as KubeObject;
  if (req.jsonPatch !== undefined) {
    try {
      out = jsonpatch.applyPatch(structuredClone(out), req.jsonPatch as jsonpatch.Operation[], true, false).newDocument as KubeObject;
    } catch (err) {
      const e = err as { index?: number; operation?: { op?: string; path?: string }; message?: string };
      const which =
        typeof e.index === 'number' ? `jsonPatch[${e.index}] (${e.operation?.op ?? '?'} ${e.operation?.path ?? '?'})` : 'jsonPatch';
      throw new DriftguardError('DG_TEST_INVALID', `${which} cannot be applied: ${(e.message ?? String(err)).split('\n')[0]}`);
    }
  }
  return out;
}

export interface ShortFormContext {
  /** Read an object file named relative to the suite. */
  readObject(file: string): KubeObject;
  now: Date;
}

export interface BuiltShortForm {
  review: AdmissionReviewRequest;
  /** The parent a Scale request names, when driftguard may look it up (parent: known). */
  parent?: KubeObject;
}

export function buildShortForm(req: ShortRequest, ctx: ShortFormContext): BuiltShortForm {
  const style: RequestStyleSpec = req.via === undefined ? {} : REQUEST_STYLES[req.via];
  const operation = req.operation ?? style.operation ?? 'UPDATE';
  const fieldManager = req.fieldManager ?? style.fieldManager;
  const subResource = req.subResource ?? style.subResource;
  const object = req.object === undefined ? undefined : inNamespace(ctx.readObject(req.object), req.namespace);
  const oldObject = req.oldObject === undefined ? undefined : inNamespace(ctx.readObject(req.oldObject), req.namespace);
  const changes = req.patch !== undefined || req.jsonPatch !== undefined || style.restart === true;

  let newObj: KubeObject | null = null;
  let stored: KubeObject | null = null;
  switch (operation) {
    case 'CREATE':
      if (object === undefined) throw new DriftguardError('DG_TEST_INVALID', 'a CREATE needs `object` (the object written)');
      newObj = patched(object, req);
      break;
    case 'DELETE':
      if (changes) throw new DriftguardError('DG_TEST_INVALID', 'a DELETE takes no patch');
      stored = oldObject ?? object ?? null;
      break;
    default: {
      stored = (oldObject ?? object)!;
      let next = patched(oldObject !== undefined && object !== undefined ? object : stored, req);
      if (style.restart === true) next = withRolloutRestart(next, ctx.now);
      newObj = asUpdated(stored, next, {
        now: ctx.now,
        ...(fieldManager === undefined ? {} : { fieldManager }),
        ...(style.apply === true ? { apply: true } : {}),
      });
    }
  }
  const review = buildReview({
    operation,
    userInfo: actorUserInfo(req.actor),
    object: newObj,
    oldObject: stored,
    ...(subResource === undefined ? {} : { subResource }),
    ...(fieldManager === undefined ? {} : { fieldManager }),
    ...(style.fieldValidation === undefined ? {} : { fieldValidation: style.fieldValidation }),
    ...(style.propagationPolicy === undefined ? {} : { propagationPolicy: style.propagationPolicy }),
    ...(req.dryRun === true ? { dryRun: true } : {}),
    ...(req.apiVersion === undefined ? {} : { apiVersion: req.apiVersion }),
  });
  const parentObj = stored ?? newObj;
  return subResource === 'scale' && req.parent !== 'unknown' && parentObj !== null ? { review, parent: parentObj } : { review };
}
