/**
 * Compile a validated DriftPolicy into matchers, once, at load. Nothing here runs per request
 * except the closures it returns.
 */
import type { Operation } from '../k8s/admission.js';
import { KeyedPathError, normalizeKeyedPath } from '../match/keyed-path.js';
import { compileActors, type ActorMatcher } from '../match/actors.js';
import { compileGlobList, type StringMatcher } from '../match/glob.js';
import { compileSelector, type CompiledSelector } from '../match/selector.js';
import { compileJsonPath, type CompiledJsonPath } from '../match/jsonpath.js';
import type { DriftPolicy, PolicyMode } from './schema.js';
import { guessPlural } from '../k8s/kinds.js';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

interface CompiledResourceMatch {
  text: string;
  group: StringMatcher;
  /** Kind of the object (for whole-object requests). */
  kind: StringMatcher;
  /** Resource plurals of the same kinds (for subresource requests, where the object is a Scale). */
  plural: StringMatcher;
}

interface CompiledException {
  pointers: readonly string[];
  jsonPaths: readonly CompiledJsonPath[];
  /** Undefined: the exception is for anyone. */
  actors?: readonly ActorMatcher[];
}

interface CompiledBreakGlass {
  actors: readonly ActorMatcher[];
  expiresAt: number;
  expires: string;
  reason: string;
}

export interface CompiledPolicy {
  name: string;
  mode: PolicyMode;
  message?: string;
  unresolved: 'match' | 'skip';
  systemActors: 'allow' | 'deny';
  source: SourceLocation;
  definition: DriftPolicy;
  resources: readonly CompiledResourceMatch[];
  namespaces?: StringMatcher;
  excludeNamespaces?: StringMatcher;
  selector?: CompiledSelector;
  managedBy?: readonly ('argocd' | 'flux')[];
  operations: ReadonlySet<Operation>;
  /** True when coverage depends on labels or annotations (selector or managedBy). */
  needsMarks: boolean;
  allow: readonly ActorMatcher[];
  exceptions: readonly CompiledException[];
  breakGlass: readonly CompiledBreakGlass[];
}

/** A keyed path in its canonical form (key fields in name order), as the diff writes them. */
function canonicalPath(path: string): string {
  try {
    return normalizeKeyedPath(path);
  } catch (err) {
    if (err instanceof KeyedPathError) return path;
    throw err;
  }
}

export function compilePolicy(policy: DriftPolicy, source: SourceLocation): CompiledPolicy {
  const spec = policy.spec;
  const m = spec.match;
  const resources = m.resources.map((r) => ({
    text: `${r.apiGroups.map((g) => (g === '' ? '""' : g)).join(',')}/${r.kinds.join(',')}`,
    group: compileGlobList(r.apiGroups),
    kind: compileGlobList(r.kinds),
    plural: compileGlobList([...r.kinds.map((k) => (k === '*' ? '*' : guessPlural(k))), ...(r.plurals ?? [])]),
  }));
  const compiled: CompiledPolicy = {
    name: policy.metadata.name,
    mode: spec.mode,
    unresolved: spec.unresolved,
    systemActors: spec.systemActors,
    source,
    definition: policy,
    resources,
    operations: new Set<Operation>(m.operations ?? ['CREATE', 'UPDATE', 'DELETE']),
    needsMarks: m.selector !== undefined || m.managedBy !== undefined,
    allow: compileActors(spec.allow),
    exceptions: spec.exceptions.map((e) => {
      const jsonPaths = (e.jsonPaths ?? []).map(compileJsonPath);
      return {
        pointers: [...(e.paths ?? []).map(canonicalPath), ...jsonPaths.flatMap((j) => (j.pointer === undefined ? [] : [j.pointer]))],
        jsonPaths: jsonPaths.filter((j) => j.pointer === undefined),
        ...(e.actors === undefined ? {} : { actors: compileActors(e.actors) }),
      };
    }),
    breakGlass: spec.breakGlass.map((b) => ({
      actors: compileActors(b.actors),
      expiresAt: Date.parse(b.expires),
      expires: b.expires,
      reason: b.reason,
    })),
  };
  if (spec.message !== undefined) compiled.message = spec.message;
  if (m.namespaces !== undefined) compiled.namespaces = compileGlobList(m.namespaces);
  if (m.excludeNamespaces !== undefined) compiled.excludeNamespaces = compileGlobList(m.excludeNamespaces);
  if (m.selector !== undefined) compiled.selector = compileSelector(m.selector);
  if (m.managedBy !== undefined) compiled.managedBy = m.managedBy;
  return compiled;
}
