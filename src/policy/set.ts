/**
 * An immutable, compiled policy set: built once from parsed documents, then swapped in by one
 * assignment, so a request sees one whole set. Pure: no I/O here; see load.ts for reading files.
 */
import { compileActor, type ActorMatcher } from '../match/actors.js';
import type { Diagnostic } from './diagnostics.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import type { ParsedPolicy } from './parse.js';

export interface PolicySet {
  readonly policies: readonly CompiledPolicy[];
  readonly files: readonly string[];
  /** GitOps identities for attribution: the presets at their default namespaces and as policies name them. */
  readonly gitops: readonly ActorMatcher[];
}

function where(p: ParsedPolicy): string {
  const at = p.locate?.(['metadata', 'name']) ?? p.source;
  return `${p.source.file}:${at.line}:${at.column}`;
}

export function buildPolicySet(parsed: readonly ParsedPolicy[], files: readonly string[]): { set: PolicySet; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, ParsedPolicy>();
  for (const p of parsed) {
    const first = byName.get(p.policy.metadata.name);
    if (first !== undefined) {
      diagnostics.push({
        file: p.source.file,
        ...(p.locate?.(['metadata', 'name']) ?? p.source),
        severity: 'error',
        code: 'DG_POLICY_DUPLICATE',
        path: 'metadata.name',
        message: `policy name "${p.policy.metadata.name}" is already used at ${where(first)}`,
        value: p.policy.metadata.name,
        hint: 'names are unique across every file loaded together: rename one of the two',
      });
      continue;
    }
    byName.set(p.policy.metadata.name, p);
  }
  const policies = [...byName.values()]
    .map((p) => compilePolicy(p.policy, p.source))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const presetKeys = new Set<string>(['argocd|', 'flux|']);
  for (const p of policies) {
    for (const ref of [...p.definition.spec.allow, ...p.definition.spec.exceptions.flatMap((e) => e.actors ?? [])]) {
      if (ref.preset !== undefined) presetKeys.add(`${ref.preset}|${ref.namespace ?? ''}`);
    }
  }
  const gitops = [...presetKeys].map((k) => {
    const [preset, namespace] = k.split('|') as ['argocd' | 'flux', string];
    return compileActor(namespace === '' ? { preset } : { preset, namespace });
  });
  return { set: { policies, files: [...files], gitops }, diagnostics };
}
