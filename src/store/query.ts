/**
 * Reading records back from the store for explain, history and audit: the filters go into SQL
 * (object, time, actor, policy, decision, namespace, name, field), the rows come back ordered as
 * the file reader orders records (by time, then in the order they were written), and each row's
 * line is parsed as the file reader parses a line. What SQL cannot say exactly (kinds, groups of the
 * actor, keyed-path item matching) is narrowed in SQL to a superset and decided by the same code as
 * for files, so a query's output equals the output for the same records read from files.
 */
import type pg from 'pg';
import type { ObjectQuery } from '../k8s/object-ref.js';
import { parseRecordLine, type ReadRecord, type ReadStats } from '../records/read.js';
import { RECORDS_TABLE } from './migrations.js';

export interface StoreRead {
  records: ReadRecord[];
  stats: ReadStats;
}

function emptyStats(display: string): ReadStats {
  return { files: [display], lines: 0, records: 0, malformed: 0, unfinished: 0, foreign: 0, unknownSchema: 0, malformedAt: [] };
}

/** Rows' lines as records, in the order given; a line this version cannot read is counted as the file reader counts it. */
function parseLines(lines: readonly string[], display: string): StoreRead {
  const stats = emptyStats(display);
  const records: ReadRecord[] = [];
  for (const line of lines) {
    stats.lines++;
    const parsed = parseRecordLine(line);
    if (parsed.kind === 'record') {
      stats.records++;
      records.push(parsed.record);
    } else if (parsed.kind === 'unknown') stats.unknownSchema++;
    else if (parsed.kind === 'foreign') stats.foreign++;
    else if (parsed.kind === 'malformed') stats.malformed++;
  }
  return { records, stats };
}

/** A `*` glob as a LIKE pattern (backslash escapes). */
function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

/** SQL conditions with their parameters, numbered as they are added. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];

  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  add(sql: string): void {
    this.parts.push(sql);
  }

  /** column matches any of the globs (LIKE ANY), or nothing is added for no globs. */
  globs(column: string, globs: readonly string[] | undefined): void {
    if (globs === undefined || globs.length === 0) return;
    this.add(`${column} LIKE ANY(${this.param(globs.map(globToLike))}::text[])`);
  }

  sql(): string {
    return this.parts.length === 0 ? 'TRUE' : this.parts.join(' AND ');
  }
}

function clusterFilter(w: Where, cluster: string | undefined, table = ''): void {
  if (cluster !== undefined) w.add(`${table}cluster = ${w.param(cluster)}`);
}

export interface LedgerQuery {
  target: ObjectQuery;
  cluster?: string;
}

export interface LedgerRead extends StoreRead {
  /** A record of the target's resource exists (the kind is one the records know). */
  resourceSeen: boolean;
  /** Namespaces other than the target's with records of the same resource and name. */
  otherNamespaces: string[];
}

/**
 * The target's records (its resource, namespace, group when given, name) and the nameless change
 * records of its resource and namespace (the entry and exit of a generateName CREATE, paired with
 * the named final by correlation), as readLedger keeps them from files. No time filter: what GitOps
 * set before a window still counts for explain, so the window is applied to the timeline.
 */
export async function queryLedger(db: Pick<pg.Pool, 'query'>, q: LedgerQuery, display: string): Promise<LedgerRead> {
  const w = new Where();
  w.add(`resource = ${w.param(q.target.resource)}`);
  w.add(`namespace = ${w.param(q.target.namespace)}`);
  if (q.target.group !== undefined) w.add(`api_group = ${w.param(q.target.group)}`);
  clusterFilter(w, q.cluster);
  const name = w.param(q.target.name);
  const res = await db.query<{ line: string }>(
    `SELECT line FROM ${RECORDS_TABLE} WHERE ${w.sql()} AND (name = ${name} OR (name IS NULL AND type = 'change')) ORDER BY time, seq`,
    w.params,
  );
  const read = parseLines(
    res.rows.map((r) => r.line),
    display,
  );
  // For the hint when nothing is found: the kind is known to the records, or the name lives elsewhere.
  const o = new Where();
  o.add(`resource = ${o.param(q.target.resource)}`);
  clusterFilter(o, q.cluster);
  const seen = await db.query<{ n: number }>(`SELECT 1 AS n FROM ${RECORDS_TABLE} WHERE ${o.sql()} LIMIT 1`, o.params);
  o.add(`name = ${o.param(q.target.name)}`);
  o.add(`namespace <> ${o.param(q.target.namespace)}`);
  const elsewhere = await db.query<{ namespace: string }>(
    `SELECT DISTINCT namespace FROM ${RECORDS_TABLE} WHERE ${o.sql()} ORDER BY namespace LIMIT 100`,
    o.params,
  );
  return { ...read, resourceSeen: seen.rows.length > 0, otherNamespaces: elsewhere.rows.map((r) => r.namespace) };
}

export interface AuditQuery {
  since?: Date;
  until?: Date;
  cluster?: string;
  users?: string[];
  namespaces?: string[];
  names?: string[];
  policies?: string[];
  decisions?: string[];
  /** Normalized keyed paths or JSON Pointers: a changed field at or below one. */
  fields?: string[];
}

function timeWindow(w: Where, q: { since?: Date; until?: Date }, table = ''): void {
  if (q.since !== undefined) w.add(`${table}time >= ${w.param(q.since.toISOString())}::timestamptz`);
  if (q.until !== undefined) w.add(`${table}time < ${w.param(q.until.toISOString())}::timestamptz`);
}

/**
 * The violation records the audit filters select (in SQL as far as SQL can say it), and the final
 * change records of the same objects in the same window: the audit needs them to tell the
 * violations of tries the API server did not persist (ledger/persisted.ts), as it does from files.
 */
export async function queryAudit(db: Pick<pg.Pool, 'query'>, q: AuditQuery, display: string): Promise<StoreRead> {
  const w = new Where();
  w.add(`type = 'violation'`);
  timeWindow(w, q);
  clusterFilter(w, q.cluster);
  w.globs('username', q.users);
  w.globs('namespace', q.namespaces);
  w.globs('name', q.names);
  w.globs('policy', q.policies);
  if (q.decisions !== undefined && q.decisions.length > 0) w.add(`decision = ANY(${w.param(q.decisions)}::text[])`);
  if (q.fields !== undefined && q.fields.length > 0 && !q.fields.includes('')) {
    const exact = w.param(q.fields);
    const below = w.param(q.fields.flatMap((f) => [`${globToLike(f)}/%`, `${globToLike(f)}[%`]));
    w.add(`EXISTS (SELECT 1 FROM unnest(fields) AS f WHERE f = ANY(${exact}::text[]) OR f LIKE ANY(${below}::text[]))`);
  }
  const c = new Where();
  c.params.push(...w.params);
  c.add(`c.type = 'change'`);
  c.add(`c.stage = 'final'`);
  timeWindow(c, q, 'c.');
  clusterFilter(c, q.cluster, 'c.');
  const res = await db.query<{ line: string }>(
    `WITH v AS (SELECT line, time, seq, api_group, resource, namespace, name FROM ${RECORDS_TABLE} WHERE ${w.sql()})
     SELECT line, time, seq FROM v
     UNION ALL
     SELECT c.line, c.time, c.seq FROM ${RECORDS_TABLE} c
      WHERE ${c.sql()}
        AND (c.api_group, c.resource, c.namespace, coalesce(c.name, '')) IN (SELECT DISTINCT api_group, resource, namespace, coalesce(name, '') FROM v)
     ORDER BY time, seq`,
    c.params,
  );
  return parseLines(
    res.rows.map((r) => r.line),
    display,
  );
}
