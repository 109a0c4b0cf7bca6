/** `--audit-log FILE...` for explain, history and audit: the API server's audit log read beside the records. */
import { AuditConverter } from '../auditlog/convert.js';
import { eventNamespace, type AuditEvent } from '../auditlog/event.js';
import { readAuditLogs, type AuditReadStats } from '../auditlog/read.js';
import type { ObjectQuery } from '../k8s/object-ref.js';
import { compileActor, presetUsernames, type ActorMatcher } from '../match/actors.js';
import type { ReadRecord } from '../records/read.js';
import { write, type CliIO } from './io.js';

/** GitOps for audit-log writes: the argocd and flux presets' controllers, and the users named. */
function auditGitOps(users: readonly string[]): ActorMatcher[] {
  const names = new Set([...presetUsernames('argocd'), ...presetUsernames('flux'), ...users]);
  return [
    compileActor({ preset: 'argocd' }),
    compileActor({ preset: 'flux' }),
    { description: 'GitOps users', matches: (u) => names.has(u.username) },
  ];
}

function isTargetEvent(e: AuditEvent, target: ObjectQuery): boolean {
  const ref = e.objectRef;
  if (ref === undefined || (ref.resource ?? '').toLowerCase() !== target.resource) return false;
  if (target.group !== undefined && (ref.apiGroup ?? '') !== target.group) return false;
  if (eventNamespace(e) !== (target.namespace ?? '')) return false;
  if (ref.name === target.name) return true;
  // A CREATE's objectRef may lack the name the object got (generateName): the persisted object has it.
  const meta = (e.responseObject as { metadata?: { name?: unknown } } | undefined)?.metadata;
  return (ref.name === undefined || ref.name === '') && meta?.name === target.name;
}

/** Read the audit log sources for one object; its writes are appended to `records` as change records. */
export async function readAuditSources(
  sources: readonly string[],
  target: ObjectQuery,
  gitopsUsers: readonly string[],
  io: CliIO,
  records: ReadRecord[],
): Promise<AuditReadStats> {
  const converter = new AuditConverter({ gitops: auditGitOps(gitopsUsers) });
  // The lines to parse name the object and its namespace (a cluster-scoped object has none).
  const needles = target.namespace === undefined || target.namespace === '' ? [target.name] : [target.name, target.namespace];
  return readAuditLogs(sources, { stdin: io.stdin, converter, needles, keep: (e) => isTargetEvent(e, target) }, (record) =>
    records.push(record as unknown as ReadRecord),
  );
}

/** Every bad line of the audit log, by file:line, on stderr; the rest was read. */
export function reportAudit(stats: AuditReadStats, io: CliIO): void {
  for (const p of stats.problemsAt) write(io.stderr, `warning: audit log ${p.at}: ${p.problem}`);
  if (stats.problems > stats.problemsAt.length)
    write(io.stderr, `warning: audit log: ${stats.problems - stats.problemsAt.length} more bad line(s)`);
}
