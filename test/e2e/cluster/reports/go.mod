// The report CRDs driftguard writes to (serve --reports), installed in the end-to-end control plane
// as their projects publish them: OpenReports' Report and ClusterReport from the reports-api
// module's config/crd/, and the wg-policy PolicyReport and ClusterPolicyReport (wgpolicyk8s.io
// v1alpha2) from Kyverno's config/crds/policyreport/, which is where that API's CRDs are published
// now. Nothing is built from these modules: scripts/e2e-cluster.sh downloads the two and copies the
// YAML files, so only the two modules' own hashes are in go.sum.
module driftguard.test/e2e/cluster/reports

go 1.26.0

require (
	github.com/kyverno/kyverno v1.19.1
	github.com/openreports/reports-api v0.2.1
)
