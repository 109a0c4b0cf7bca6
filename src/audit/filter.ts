/**
 * Audit filters. Each filter takes a list of values: an entry passes a filter when it matches any
 * of its values, and passes the whole filter when it passes every filter given. `*` globs work in
 * user, group, namespace, name and policy, as in policies. Time (--since/--until) is applied by the
 * reader. Pure.
 */
import { compileGlobList, type StringMatcher } from '../match/glob.js';
import { isAtOrBelow } from '../match/pointer.js';
import { isAtOrBelowKeyed } from '../match/keyed-path.js';
import type { ViolationDecision } from '../records/record.js';
import type { AuditEntry } from './entry.js';

export interface AuditFilter {
  users?: string[];
  groups?: string[];
  namespaces?: string[];
  /** Kind (`Deployment`, any case) or resource plural (`deployments`). */
  kinds?: string[];
  names?: string[];
  policies?: string[];
  decisions?: ViolationDecision[];
  /** Keyed paths or JSON Pointers (normalized): an entry matches when one of its changed fields is at or below one. */
  fields?: string[];
}

function some(values: string[] | undefined): values is string[] {
  return values !== undefined && values.length > 0;
}

export function compileFilter(f: AuditFilter): (e: AuditEntry) => boolean {
  const tests: Array<(e: AuditEntry) => boolean> = [];
  const glob = (values: string[] | undefined, pick: (e: AuditEntry) => string | undefined): void => {
    if (!some(values)) return;
    const m: StringMatcher = compileGlobList(values);
    tests.push((e) => {
      const v = pick(e);
      return v !== undefined && m(v);
    });
  };
  glob(f.users, (e) => e.username);
  glob(f.namespaces, (e) => e.namespace ?? '');
  glob(f.names, (e) => e.name);
  glob(f.policies, (e) => e.policy);
  if (some(f.groups)) {
    const m = compileGlobList(f.groups);
    tests.push((e) => e.groups.some(m));
  }
  if (some(f.kinds)) {
    const kinds = new Set(f.kinds.map((k) => k.toLowerCase()));
    tests.push((e) => kinds.has(e.kind.toLowerCase()) || kinds.has(e.resource.toLowerCase()));
  }
  if (some(f.decisions)) {
    const decisions = new Set<string>(f.decisions);
    tests.push((e) => decisions.has(e.decision));
  }
  if (some(f.fields)) {
    const prefixes = f.fields;
    // A keyed path selects the item by key; a pointer by index selects the item at that index then.
    tests.push((e) =>
      e.fields.some((field, i) => prefixes.some((p) => isAtOrBelowKeyed(field, p) || isAtOrBelow(e.pointers[i] ?? field, p))),
    );
  }
  return (e) => tests.every((t) => t(e));
}

/** The filters in words, for report headers: `user=jane*, decision=denied`. */
export function describeFilter(f: AuditFilter): string {
  const parts: string[] = [];
  const add = (label: string, values: readonly string[] | undefined): void => {
    if (values !== undefined && values.length > 0) parts.push(`${label}=${values.join('|')}`);
  };
  add('user', f.users);
  add('group', f.groups);
  add('namespace', f.namespaces);
  add('kind', f.kinds);
  add('name', f.names);
  add('policy', f.policies);
  add('decision', f.decisions);
  add('field', f.fields);
  return parts.join(', ');
}
