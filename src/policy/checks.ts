/**
 * Lint findings beyond the schema (docs/errors.md, "Lint findings"): patterns that can never match
 * what they name, pointers into label and annotation keys written unescaped, and policies that can
 * never match or never deny. Pure: a parsed policy in, located diagnostics out.
 *
 * Errors here are lint-only: the engine would load these policies, but they cannot do what their
 * author wrote, so `policy lint` fails on them.
 */
import { JSONPath } from 'jsonpath-plus';
import { compileGlob } from '../match/glob.js';
import { isAtOrBelow, parsePointer, toPointer } from '../match/pointer.js';
import { NEVER_DRIFT } from '../k8s/never-drift.js';
import { KeyedPathError, parseKeyedPath, renderKeyedPath, type PathSegment } from '../match/keyed-path.js';
import { builtinListKeys, fieldNode, type KeyNode } from '../k8s/list-keys.js';
import { dottedPath, type Diagnostic, type Severity } from './diagnostics.js';
import { lintCode, type LintCode } from './lint-codes.js';
import { compileJsonPath } from '../match/jsonpath.js';
import { BUILTIN_GROUPS, KNOWN_KINDS, kindFor } from '../k8s/kinds.js';
import type { ParsedPolicy } from './parse.js';
import type { DriftPolicy } from './schema.js';
import type { DocPath } from './yamldoc.js';
import { coverageGaps, type RegisteredWebhook } from './coverage.js';
import { policyResources } from './registration.js';

type Finding = { path: DocPath; severity: Severity; code: LintCode; message: string; value?: unknown; hint?: string };

/** Syntax of other glob and regex dialects; driftguard globs know only `*`. */
const FOREIGN = /[?[\]{}!^$|+\\]|\*\*|\.\*/;
const NAMESPACE = /^[a-z0-9-]*$/;
const GROUP = /^[a-z0-9.-]*$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
const SA_NAME = /^[a-z0-9.-]*$/;

/** The `*`-only glob an author probably meant by a regex or a richer glob. */
function plainGlob(text: string): string {
  return text
    .replace(/^\^|\$$/g, '')
    .replace(/\[[^\]]*\]|\{[^}]*\}|\.\*|\.\+|\?|\+/g, '*')
    .replace(/\\(.)/g, '$1')
    .replace(/\*{2,}/g, '*');
}

function braceAlternatives(text: string): string[] | undefined {
  const m = /^(.*)\{([^{}]*)\}(.*)$/.exec(text);
  if (m === null || !m[2]!.includes(',')) return undefined;
  return m[2]!.split(',').map((alt) => `${m[1]}${alt}${m[3]}`);
}

type PatternKind = 'namespace' | 'apiGroup' | 'kind' | 'serviceAccount namespace' | 'serviceAccount name';

/** What is wrong with a pattern that must match names of one kind, and a likely fix. */
export function patternProblem(text: string, kind: PatternKind): { message: string; fix?: string } | undefined {
  const braces = braceAlternatives(text);
  if (braces !== undefined)
    return { message: 'braces are not a glob here: only `*` is a wildcard', fix: braces.map((b) => JSON.stringify(b)).join(', ') };
  const foreign = FOREIGN.test(text);
  let fixed = foreign ? plainGlob(text) : text;
  const bare = fixed.replace(/\*/g, '');
  let problem: string | undefined = foreign ? 'only `*` is a wildcard (no `?`, `[...]`, `**` or regular expressions)' : undefined;
  switch (kind) {
    case 'namespace':
    case 'serviceAccount namespace':
      if (!NAMESPACE.test(bare)) {
        problem ??= 'a namespace name has only lowercase letters, digits and "-"';
        fixed = fixed.toLowerCase().replace(/[^a-z0-9*-]+/g, '-');
      } else if (!fixed.includes('*') && fixed.length > 63) problem ??= 'a namespace name has at most 63 characters';
      break;
    case 'serviceAccount name':
      if (!SA_NAME.test(bare)) {
        problem ??= 'a ServiceAccount name has only lowercase letters, digits, "-" and "."';
        fixed = fixed.toLowerCase().replace(/[^a-z0-9.*-]+/g, '-');
      }
      break;
    case 'apiGroup': {
      const lower = text.toLowerCase();
      if (lower === 'core' || lower === 'v1') return { message: 'the core group is written as "" (an empty string)', fix: '""' };
      const slash = text.indexOf('/');
      if (slash > 0) return { message: 'apiGroups take the group without its version', fix: JSON.stringify(text.slice(0, slash)) };
      if (!GROUP.test(bare)) {
        problem ??= 'an API group has only lowercase letters, digits, "-" and "."';
        fixed = fixed.toLowerCase();
      }
      break;
    }
    case 'kind': {
      if (text === '*') return undefined;
      const guess = kindFor(text);
      if (text.includes('/')) {
        return {
          message: 'kinds name the object kind; a subresource request is covered through its parent kind',
          ...(guess === undefined ? {} : { fix: JSON.stringify(guess) }),
        };
      }
      if (!foreign && !KIND.test(bare.length === 0 ? 'X' : text.replace(/\*/g, 'X'))) {
        return {
          message: "kinds are CamelCase and singular, as in the object's `kind:` (Deployment, not deployments)",
          ...(guess === undefined ? {} : { fix: JSON.stringify(guess) }),
        };
      }
      break;
    }
  }
  if (problem === undefined) return undefined;
  return fixed !== text && fixed !== '' ? { message: problem, fix: JSON.stringify(fixed) } : { message: problem };
}

/** True when every name `inner` matches is also matched by `outer` (sound, not complete). */
export function globCovers(outer: string, inner: string): boolean {
  // `outer` has no literal `*`, so it can only match inner's `*` with a wildcard of its own, which
  // then absorbs whatever inner's `*` stands for.
  return compileGlob(outer)(inner);
}

/** Label and annotation values are strings: a pointer deeper than the key names nothing. */
function keyedMapDepth(tokens: readonly string[]): number | undefined {
  for (let i = 1; i < tokens.length; i++) {
    if ((tokens[i] === 'annotations' || tokens[i] === 'labels') && tokens[i - 1] === 'metadata' && tokens.length > i + 2) return i;
  }
  return undefined;
}

function jsonPathText(tokens: readonly string[]): string {
  return `$${tokens.map((t) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t) ? `.${t}` : /^\d+$/.test(t) ? `[${t}]` : `['${t.replace(/'/g, "\\'")}']`)).join('')}`;
}

const WHOLE_OBJECT_JSONPATHS = new Set(['$', '$.*', '$..*', '$[*]']);
const EVERYONE_GROUPS = new Set(['*', 'system:authenticated']);

function patternFindings(policy: DriftPolicy): Finding[] {
  const out: Finding[] = [];
  const m = policy.spec.match;
  const bad = (path: DocPath, value: string, kind: PatternKind, label: string): void => {
    const p = patternProblem(value, kind);
    if (p === undefined) return;
    out.push({
      path,
      ...lintCode('DGL010'),
      message: `${label} can never match: ${p.message}`,
      value,
      ...(p.fix === undefined ? {} : { hint: `did you mean ${p.fix}?` }),
    });
  };
  (m.namespaces ?? []).forEach((ns, i) => bad(['spec', 'match', 'namespaces', i], ns, 'namespace', 'namespace pattern'));
  (m.excludeNamespaces ?? []).forEach((ns, i) => bad(['spec', 'match', 'excludeNamespaces', i], ns, 'namespace', 'namespace pattern'));
  m.resources.forEach((r, i) => {
    r.apiGroups.forEach((g, j) => bad(['spec', 'match', 'resources', i, 'apiGroups', j], g, 'apiGroup', 'API group'));
    r.kinds.forEach((k, j) => bad(['spec', 'match', 'resources', i, 'kinds', j], k, 'kind', 'kind'));
  });
  const actorLists: Array<{ base: DocPath; actors: DriftPolicy['spec']['allow'] }> = [
    { base: ['spec', 'allow'], actors: policy.spec.allow },
    ...policy.spec.exceptions.map((e, i) => ({ base: ['spec', 'exceptions', i, 'actors'] as DocPath, actors: e.actors ?? [] })),
    ...policy.spec.breakGlass.map((b, i) => ({ base: ['spec', 'breakGlass', i, 'actors'] as DocPath, actors: b.actors })),
  ];
  for (const { base, actors } of actorLists) {
    actors.forEach((a, i) => {
      if (a.serviceAccount !== undefined) {
        const [ns, name] = a.serviceAccount.split('/') as [string, string];
        const nsProblem = patternProblem(ns, 'serviceAccount namespace');
        const nameProblem = patternProblem(name, 'serviceAccount name');
        const problem = nsProblem ?? nameProblem;
        if (problem !== undefined) {
          const unquote = (fix: string | undefined, orig: string): string => (fix === undefined ? orig : (JSON.parse(fix) as string));
          const fixed = `${unquote(nsProblem?.fix, ns)}/${unquote(nameProblem?.fix, name)}`;
          out.push({
            path: [...base, i, 'serviceAccount'],
            ...lintCode('DGL010'),
            message: `serviceAccount can never match: ${nsProblem === undefined ? 'its name' : 'its namespace'}: ${problem.message}`,
            value: a.serviceAccount,
            ...(fixed === a.serviceAccount ? {} : { hint: `did you mean ${JSON.stringify(fixed)}?` }),
          });
        }
      }
      for (const field of ['user', 'group'] as const) {
        const v = a[field];
        if (v === undefined) continue;
        const path = [...base, i, field];
        if (v !== v.trim()) {
          out.push({
            path,
            ...lintCode('DGL006'),
            message: `${field} has spaces at an end; names match exactly, so this is a different ${field}`,
            value: v,
            hint: `did you mean ${JSON.stringify(v.trim())}?`,
          });
        } else if (/\.\*|\.\+|^\^|\$$/.test(v)) {
          out.push({
            path,
            ...lintCode('DGL006'),
            message: `${field} looks like a regular expression; only \`*\` is a wildcard and "." matches itself`,
            value: v,
            hint: `did you mean ${JSON.stringify(plainGlob(v))}?`,
          });
        }
      }
    });
  }
  return out;
}

function pathFindings(policy: DriftPolicy): Finding[] {
  const out: Finding[] = [];
  policy.spec.exceptions.forEach((e, i) => {
    const everyone = e.actors === undefined || e.actors.length === 0;
    (e.paths ?? []).forEach((ptr, j) => {
      const path: DocPath = ['spec', 'exceptions', i, 'paths', j];
      const tokens = parsePointer(ptr);
      const at = keyedMapDepth(tokens);
      if (at !== undefined) {
        out.push({
          path,
          ...lintCode('DGL011'),
          message: `points below ${tokens[at] === 'labels' ? 'a label' : 'an annotation'} value, which is a string: a "/" inside the key must be escaped as ~1`,
          value: ptr,
          hint: `did you mean ${JSON.stringify(toPointer([...tokens.slice(0, at + 1), tokens.slice(at + 1).join('/')]))}?`,
        });
        return;
      }
      if (ptr === '') {
        if (everyone)
          out.push({
            path,
            ...lintCode('DGL004'),
            message: 'the empty pointer is the whole object: every change is exempt, so this policy never denies',
            value: ptr,
            hint: 'name the fields that may change, or add `actors:`',
          });
        return;
      }
      const never = [...NEVER_DRIFT].find((n) => isAtOrBelow(ptr, n));
      if (never !== undefined)
        out.push({
          path,
          ...lintCode('DGL005'),
          message: `${never} is never drift anyway; this exception has no effect`,
          value: ptr,
          hint: 'remove it',
        });
    });
    (e.jsonPaths ?? []).forEach((expr, j) => {
      const path: DocPath = ['spec', 'exceptions', i, 'jsonPaths', j];
      if (WHOLE_OBJECT_JSONPATHS.has(expr.replace(/\s+/g, ''))) {
        if (everyone)
          out.push({
            path,
            ...lintCode('DGL004'),
            message: 'this JSONPath selects every field: every change is exempt, so this policy never denies',
            value: expr,
            hint: 'name the fields that may change, or add `actors:`',
          });
        return;
      }
      let tokens: string[];
      try {
        tokens = JSONPath.toPathArray(expr).slice(1);
      } catch {
        return;
      }
      const at = keyedMapDepth(tokens);
      if (at !== undefined && tokens.slice(at + 1).every((t) => !/^(\*|\.\.|\?\(.*|\(.*)$/s.test(t))) {
        out.push({
          path,
          ...lintCode('DGL011'),
          message: `reads below ${tokens[at] === 'labels' ? 'a label' : 'an annotation'} value: a key with "." or "/" must be quoted in brackets`,
          value: expr,
          hint: `did you mean ${JSON.stringify(jsonPathText([...tokens.slice(0, at + 1), tokens.slice(at + 1).join('.')]))}?`,
        });
        return;
      }
      const fixed = compileJsonPath(expr).pointer;
      const never = fixed === undefined ? undefined : [...NEVER_DRIFT].find((n) => isAtOrBelow(fixed, n));
      if (never !== undefined)
        out.push({
          path,
          ...lintCode('DGL005'),
          message: `${never} is never drift anyway; this exception has no effect`,
          value: expr,
          hint: 'remove it',
        });
    });
  });
  return out;
}

/** Why the selector can never hold, or undefined. */
function selectorContradiction(sel: NonNullable<DriftPolicy['spec']['match']['selector']>): string | undefined {
  const labels = sel.matchLabels ?? {};
  const exprs = sel.matchExpressions ?? [];
  for (const e of exprs) {
    const fixed = Object.hasOwn(labels, e.key) ? labels[e.key] : undefined;
    if (fixed !== undefined) {
      if (e.operator === 'DoesNotExist') return `matchLabels requires ${e.key}=${fixed} but an expression requires ${e.key} to be absent`;
      if (e.operator === 'NotIn' && (e.values ?? []).includes(fixed))
        return `matchLabels requires ${e.key}=${fixed} but an expression excludes that value`;
      if (e.operator === 'In' && !(e.values ?? []).includes(fixed))
        return `matchLabels requires ${e.key}=${fixed} but an expression allows only ${(e.values ?? []).join(', ')}`;
    }
    for (const other of exprs) {
      if (other === e || other.key !== e.key) continue;
      if (e.operator === 'Exists' && other.operator === 'DoesNotExist') return `${e.key} is required both to exist and to be absent`;
      if (e.operator === 'In' && other.operator === 'DoesNotExist')
        return `${e.key} is required both to be one of ${(e.values ?? []).join(', ')} and to be absent`;
      if (e.operator === 'In' && other.operator === 'In' && !(e.values ?? []).some((v) => (other.values ?? []).includes(v)))
        return `two In expressions for ${e.key} share no value`;
      if (e.operator === 'In' && other.operator === 'NotIn' && (e.values ?? []).every((v) => (other.values ?? []).includes(v)))
        return `NotIn excludes every value In allows for ${e.key}`;
    }
  }
  return undefined;
}

function coverageFindings(policy: DriftPolicy): Finding[] {
  const out: Finding[] = [];
  const m = policy.spec.match;
  const namespaced = m.namespaces !== undefined;
  let liveEntries = 0;
  m.resources.forEach((r, i) => {
    const groupsKnown = r.apiGroups.every((g) => BUILTIN_GROUPS.has(g));
    let liveKinds = 0;
    r.kinds.forEach((k, j) => {
      const known = KNOWN_KINDS[k];
      const path: DocPath = ['spec', 'match', 'resources', i, 'kinds', j];
      if (k.includes('*') || known === undefined || patternProblem(k, 'kind') !== undefined) {
        if (patternProblem(k, 'kind') === undefined) liveKinds++;
        return;
      }
      if (groupsKnown && !r.apiGroups.includes(known.group)) {
        const group = known.group === '' ? 'the core group ("")' : `group ${known.group}`;
        out.push({
          path,
          ...lintCode('DGL003'),
          message: `${k} is in ${group}, not in ${r.apiGroups.map((g) => (g === '' ? '""' : g)).join(', ')}: this kind never matches here`,
          value: k,
          hint: `move ${k} to a resources entry with apiGroups: [${JSON.stringify(known.group)}]`,
        });
        return;
      }
      if (known.clusterScoped === true && namespaced) {
        out.push({
          path,
          ...lintCode('DGL003'),
          message: `${k} is cluster-scoped; a policy that lists namespaces never covers it`,
          value: k,
          hint: `cover ${k} in a policy without \`namespaces\``,
        });
        return;
      }
      liveKinds++;
    });
    if (liveKinds > 0) liveEntries++;
  });
  const never = (path: DocPath, why: string, hint?: string): void => {
    out.push({
      path,
      ...lintCode('DGL002'),
      message: `policy ${policy.metadata.name} can never match: ${why}`,
      ...(hint === undefined ? {} : { hint }),
    });
  };
  if (liveEntries === 0) never(['spec', 'match', 'resources'], 'no kind in match.resources can match');
  if (m.namespaces !== undefined && m.excludeNamespaces !== undefined) {
    const excluded = m.excludeNamespaces;
    if (m.namespaces.every((ns) => excluded.some((ex) => globCovers(ex, ns)))) {
      never(
        ['spec', 'match', 'excludeNamespaces'],
        `excludeNamespaces removes every namespace that namespaces (${m.namespaces.join(', ')}) lets in`,
      );
    }
  }
  if (m.selector !== undefined) {
    const why = selectorContradiction(m.selector);
    if (why !== undefined) never(['spec', 'match', 'selector'], `the selector contradicts itself: ${why}`);
  }
  if (policy.spec.unresolved === 'skip' && m.selector === undefined && m.managedBy === undefined) {
    out.push({
      path: ['spec', 'unresolved'],
      ...lintCode('DGL005'),
      message: '`unresolved` only matters with a selector or managedBy; here it has no effect',
      value: 'skip',
      hint: 'remove it, or add match.selector / match.managedBy',
    });
  }
  policy.spec.allow.forEach((a, i) => {
    const everyone =
      a.user === '*' ? 'user "*"' : a.group !== undefined && EVERYONE_GROUPS.has(a.group) ? `group ${JSON.stringify(a.group)}` : undefined;
    if (everyone !== undefined) {
      out.push({
        path: ['spec', 'allow', i],
        ...lintCode('DGL004'),
        message: `${everyone} allows every authenticated actor: this policy never denies`,
        value: a.user ?? a.group,
        hint: 'use mode: audit to watch changes without blocking them, or name the actors',
      });
    }
  });
  return out;
}

/** The key trees of the built-in kinds a policy names by exact group and kind (globs name no one kind). */
function policyKeyTrees(policy: DriftPolicy): Array<{ kind: string; tree: KeyNode }> {
  const out: Array<{ kind: string; tree: KeyNode }> = [];
  for (const r of policy.spec.match.resources) {
    for (const group of r.apiGroups) {
      if (group.includes('*')) continue;
      for (const kind of r.kinds) {
        if (kind.includes('*')) continue;
        const tree = builtinListKeys().forGroupKind(group, kind);
        if (tree !== undefined) out.push({ kind, tree });
      }
    }
  }
  return out;
}

type KeyedProblem = { code: 'DGL014' | 'DGL015'; message: string; hint: string };

/** Walk a path through a kind's key tree: an index into a keyed list (DGL014), or a selector by the wrong fields (DGL015). */
function keyedProblem(segments: readonly PathSegment[], tree: KeyNode, kind: string): KeyedProblem | undefined {
  let node: KeyNode | undefined = tree;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const keys: readonly string[] | undefined = node?.keys;
    if ('token' in seg) {
      if (node === undefined) continue;
      if (keys !== undefined && /^\d+$/.test(seg.token)) {
        const list = renderKeyedPath(segments.slice(0, i));
        const placeholder = `[${keys.map((k) => `${k}=${k.toUpperCase()}`).join(',')}]`;
        return {
          code: 'DGL014',
          message: `${list} is a list whose items ${kind} identifies by ${keys.join(' and ')}: index ${seg.token} names whichever item is there, and another one after an insert or a reorder`,
          hint: `name the item by key: ${JSON.stringify(list + placeholder + renderKeyedPath(segments.slice(i + 1)))}`,
        };
      }
      node = keys !== undefined ? node.any : fieldNode(node, seg.token);
      continue;
    }
    const named = seg.keys.map(([k]) => k);
    if (keys === undefined || named.length !== keys.length || named.some((k, j) => k !== keys[j])) {
      const list = renderKeyedPath(segments.slice(0, i));
      return {
        code: 'DGL015',
        message:
          keys === undefined
            ? `${list} is not a list ${kind} identifies by key: this selector never matches`
            : `${list} items are identified by ${keys.join(' and ')}, not by ${named.join(' and ')}: this selector never matches`,
        hint: keys === undefined ? 'use the index, or the path of the keyed list' : `select by ${keys.map((k) => `${k}=...`).join(',')}`,
      };
    }
    node = node?.any;
  }
  return undefined;
}

/** DGL014, DGL015: exception paths that point into keyed lists by index, or select items by fields that are not their keys. */
function keyedListFindings(policy: DriftPolicy): Finding[] {
  const trees = policyKeyTrees(policy);
  if (trees.length === 0) return [];
  const out: Finding[] = [];
  policy.spec.exceptions.forEach((e, i) => {
    (e.paths ?? []).forEach((ptr, j) => {
      let segments: PathSegment[];
      try {
        segments = parseKeyedPath(ptr);
      } catch (err) {
        if (err instanceof KeyedPathError) return;
        throw err;
      }
      for (const { kind, tree } of trees) {
        const problem = keyedProblem(segments, tree, kind);
        if (problem === undefined) continue;
        out.push({
          path: ['spec', 'exceptions', i, 'paths', j],
          ...lintCode(problem.code),
          message: problem.message,
          hint: problem.hint,
          value: ptr,
        });
        return;
      }
    });
  });
  return out;
}

/** DGL012: a kind `driftguard manifests` cannot register offline (outside the built-in table, no plurals). */
function registrationFindings(policy: DriftPolicy): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const u of policyResources(policy, undefined).unresolved) {
    // Never matches anyway: a misspelt pattern (DGL010) or a built-in kind in another built-in group (DGL003).
    if (patternProblem(u.kind, 'kind') !== undefined || patternProblem(u.group, 'apiGroup') !== undefined) continue;
    if (KNOWN_KINDS[u.kind] !== undefined && BUILTIN_GROUPS.has(u.group)) continue;
    const i = policy.spec.match.resources.findIndex((r) => r.kinds.includes(u.kind) && r.apiGroups.includes(u.group));
    if (i < 0 || seen.has(`${i}/${u.kind}`)) continue;
    seen.add(`${i}/${u.kind}`);
    out.push({
      path: ['spec', 'match', 'resources', i, 'kinds', policy.spec.match.resources[i]!.kinds.indexOf(u.kind)],
      severity: 'warning',
      code: 'DGL012',
      message: `${u.kind} is not a built-in kind of ${u.group === '' ? 'the core group' : u.group}: without its resource name, \`driftguard manifests\` registers a guess (${u.guessed}) and the API server may never send it`,
      value: u.kind,
      hint: `add \`plurals: [${u.guessed}]\` to this resources entry (the name \`kubectl api-resources\` lists), or generate the manifests with --kubeconfig for discovery`,
    });
  }
  return out;
}

/** DGL013: what a registration (policy lint --webhooks FILE) does not send of what this policy covers. */
export function coverageGapFindings(parsed: ParsedPolicy, webhook: RegisteredWebhook, file: string): Diagnostic[] {
  return locateFindings(
    parsed,
    coverageGaps([parsed.policy], webhook).map((g) => ({
      path: g.what === 'namespaces' ? ['spec', 'match', 'namespaces'] : ['spec', 'match', 'resources'],
      severity: 'warning' as const,
      code: 'DGL013',
      message: `${file}: ${g.message}`,
      value: g.what,
      hint: 'regenerate the registration: `driftguard manifests --policies DIR`, or run `serve --manage-webhooks`',
    })),
  );
}

function locateFindings(parsed: ParsedPolicy, findings: Finding[]): Diagnostic[] {
  const { source } = parsed;
  const locate = parsed.locate ?? (() => ({ line: source.line, column: source.column }));
  return findings.map((f) => {
    const d: Diagnostic = {
      file: source.file,
      ...locate(f.path),
      severity: f.severity,
      code: f.code,
      path: dottedPath(f.path),
      message: f.message,
    };
    if (f.value !== undefined) d.value = f.value;
    if (f.hint !== undefined) d.hint = f.hint;
    return d;
  });
}

/** Every lint finding for one parsed policy, located in its file. */
export function policyFindings(parsed: ParsedPolicy): Diagnostic[] {
  const { policy } = parsed;
  return locateFindings(parsed, [
    ...patternFindings(policy),
    ...pathFindings(policy),
    ...keyedListFindings(policy),
    ...coverageFindings(policy),
    ...registrationFindings(policy),
  ]);
}

/** DGL001: break-glass entries past their expiry. */
export function expiredBreakGlass(parsed: ParsedPolicy, now: Date): Diagnostic[] {
  const { policy, source } = parsed;
  const locate = parsed.locate ?? (() => ({ line: source.line, column: source.column }));
  const out: Diagnostic[] = [];
  policy.spec.breakGlass.forEach((bg, i) => {
    if (Date.parse(bg.expires) > now.getTime()) return;
    const path = ['spec', 'breakGlass', i, 'expires'];
    out.push({
      file: source.file,
      ...locate(path),
      ...lintCode('DGL001'),
      path: dottedPath(path),
      message: `break-glass entry expired at ${bg.expires}; it no longer allows anything`,
      value: bg.expires,
      hint: 'remove the entry once the incident is closed',
    });
  });
  return out;
}
