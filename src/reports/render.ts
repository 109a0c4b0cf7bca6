/**
 * An object's report as the API object `serve --reports` applies: OpenReports (openreports.io/v1alpha1
 * Report, or ClusterReport for a cluster-scoped object) or wg-policy (wgpolicyk8s.io/v1alpha2
 * PolicyReport / ClusterPolicyReport). The two CRDs share scope, summary and results; OpenReports adds
 * a report-level `source`. The report is named after the object's uid (driftguard-UID, beside the
 * UID-named reports Kyverno writes) and owned by the object, so the garbage collector removes it
 * with the object (docs/reports.md). Pure.
 */
import type { ObjectReport, ReportScope } from './compute.js';
import { REPORT_SOURCE } from './compute.js';

export type ReportFormat = 'openreports' | 'wgpolicy';

export interface ReportKind {
  group: string;
  version: string;
  kind: string;
  /** The REST resource name. */
  resource: string;
  namespaced: boolean;
}

const KINDS: Record<ReportFormat, { namespaced: ReportKind; cluster: ReportKind }> = {
  openreports: {
    namespaced: { group: 'openreports.io', version: 'v1alpha1', kind: 'Report', resource: 'reports', namespaced: true },
    cluster: { group: 'openreports.io', version: 'v1alpha1', kind: 'ClusterReport', resource: 'clusterreports', namespaced: false },
  },
  wgpolicy: {
    namespaced: { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', resource: 'policyreports', namespaced: true },
    cluster: {
      group: 'wgpolicyk8s.io',
      version: 'v1alpha2',
      kind: 'ClusterPolicyReport',
      resource: 'clusterpolicyreports',
      namespaced: false,
    },
  },
};

/** Both report kinds of a format: the namespaced one and the cluster-scoped one. */
export function reportKinds(format: ReportFormat): readonly ReportKind[] {
  return [KINDS[format].namespaced, KINDS[format].cluster];
}

function reportKindFor(format: ReportFormat, scope: Pick<ReportScope, 'namespace'>): ReportKind {
  return scope.namespace === undefined ? KINDS[format].cluster : KINDS[format].namespaced;
}

/** The label every report driftguard writes carries (the loop lists its own reports by it). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export function reportName(scope: Pick<ReportScope, 'uid'>): string {
  return `driftguard-${scope.uid}`;
}

export interface RenderedReport {
  kind: ReportKind;
  namespace?: string;
  name: string;
  body: Record<string, unknown>;
}

export function renderReport(format: ReportFormat, report: ObjectReport): RenderedReport {
  const kind = reportKindFor(format, report.scope);
  const scope = report.scope;
  const name = reportName(scope);
  const metadata: Record<string, unknown> = {
    name,
    labels: { [MANAGED_BY_LABEL]: REPORT_SOURCE },
    ownerReferences: [{ apiVersion: scope.apiVersion, kind: scope.kind, name: scope.name, uid: scope.uid }],
  };
  if (scope.namespace !== undefined) metadata.namespace = scope.namespace;
  const body: Record<string, unknown> = {
    apiVersion: `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata,
    scope: { ...scope },
    ...(format === 'openreports' ? { source: REPORT_SOURCE } : {}),
    summary: { ...report.summary },
    results: report.results.map((r) => ({ ...r, properties: { ...r.properties } })),
  };
  const out: RenderedReport = { kind, name, body };
  if (scope.namespace !== undefined) out.namespace = scope.namespace;
  return out;
}
