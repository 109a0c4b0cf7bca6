/** Read policy files from disk (the only I/O of the policy layer) and build a PolicySet. */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DriftguardError, systemErrorText } from '../errors.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { parsePolicyText, type ParsedPolicy } from './parse.js';
import { buildPolicySet, type PolicySet } from './set.js';

const POLICY_FILE = /\.ya?ml$/i;

/** The policy files a path names: a file as is, or a directory's *.yaml / *.yml (not recursive; dotfiles skipped). */
export async function policyFiles(target: string): Promise<string[]> {
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    throw new DriftguardError('DG_POLICY_DIR', `cannot read policies at ${target}: ${systemErrorText(err)}`, {
      cause: err,
    });
  }
  if (info.isFile()) return [target];
  const entries = await readdir(target);
  const files: string[] = [];
  for (const name of entries.sort()) {
    if (name.startsWith('.') || !POLICY_FILE.test(name)) continue;
    const full = path.join(target, name);
    // Follow symlinks (a mounted ConfigMap links each key into ..data/).
    if ((await stat(full)).isFile()) files.push(full);
  }
  return files;
}

export interface LoadResult {
  set: PolicySet;
  diagnostics: Diagnostic[];
  /** Every valid document as parsed, with its location (lint reads these). */
  parsed: ParsedPolicy[];
}

/** Parse and validate every file; diagnostics hold every problem found, not only the first. */
export async function readPolicies(targets: readonly string[]): Promise<LoadResult> {
  const parsed: ParsedPolicy[] = [];
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  for (const target of targets) {
    for (const file of await policyFiles(target)) {
      files.push(file);
      const text = await readFile(file, 'utf8');
      const r = parsePolicyText(text, file);
      parsed.push(...r.policies);
      diagnostics.push(...r.diagnostics);
    }
  }
  const built = buildPolicySet(parsed, files);
  return { set: built.set, diagnostics: [...diagnostics, ...built.diagnostics], parsed };
}

/** For serve and evaluate: any error diagnostic stops the load, with every problem in the message. */
export async function loadPolicies(targets: readonly string[]): Promise<PolicySet> {
  const { set, diagnostics } = await readPolicies(targets);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    throw new DriftguardError(
      errors[0]!.code === 'DG_POLICY_PARSE' ? 'DG_POLICY_PARSE' : 'DG_POLICY_INVALID',
      `invalid policies:\n${errors.map(formatDiagnostic).join('\n')}`,
      {
        details: errors,
      },
    );
  }
  if (set.files.length === 0) {
    throw new DriftguardError('DG_POLICY_DIR', `no policy files (*.yaml, *.yml) in ${targets.join(', ')}`);
  }
  return set;
}
