/**
 * The layers of src/, lowest first. A module may import from its own layer and from the layers
 * below it, never from a layer above; no import cycle anywhere. `npm test` runs this check
 * (`npm run depcruise`), so a new upward import fails the suite.
 */
const LAYERS = [
  // Coded errors, the process logger, the zod schemas are written with, and checked directory and
  // file creation, input sources resolved to files: every layer may report a DG_* error, log,
  // declare a schema, make a directory, or read files named by globs, directories and rotations.
  { name: 'base', path: '^src/(errors|logger|zod|files|sources)\\.ts$' },
  // The one bounded background queue (capture, Events, notifications): a leaf that imports nothing of src/.
  { name: 'queue', path: '^src/queue/' },
  // What Kubernetes is: admission review types, built-in kinds and plurals, the object a request
  // targets, GitOps owner marks, the fields only the API server writes. Knows nothing of policies.
  { name: 'k8s', path: '^src/k8s/' },
  // Matchers compiled once and run per request: globs, JSON pointers, label selectors, actors, JSONPath.
  { name: 'match', path: '^src/match/' },
  // DriftPolicy documents: schema, YAML with positions, lint checks, compilation into matchers, loading.
  { name: 'policy', path: '^src/policy/' },
  // The pure decision: diff, evaluation against compiled policies, the decision. No I/O.
  { name: 'engine', path: '^src/engine/' },
  // What is written and read back: record shapes, the record schema readers use, sinks, rotation.
  { name: 'records', path: '^src/records/' },
  // The API server's audit log as a records source: audit events read and turned into change records.
  { name: 'auditlog', path: '^src/auditlog/' },
  // The one typed hooks interface (decisions, change records, policy and certificate loads) and its fan-out.
  { name: 'hooks', path: '^src/hooks/' },
  // The change ledger: change records written per observation point, timelines and explanations read from records.
  { name: 'ledger', path: '^src/ledger/' },
  // The PostgreSQL records store: URL, schema migrations, rows, shipping from serve with a spool, the readers' queries.
  { name: 'store', path: '^src/store/' },
  // Talking to the API server (the one place that does cluster I/O): client, Scale parents, webhook listing.
  { name: 'cluster', path: '^src/cluster/' },
  // Turning a review into a response: parse, validate, observe, the response helpers, review builders.
  { name: 'admission', path: '^src/(admission|observe)/' },
  // Features over the admission path: capture for replay, policy tests, the audit report, certificates, manifests.
  { name: 'features', path: '^src/(capture|policytest|audit|certs|install)/' },
  // The one HTTP adapter: HTTPS, the review routes, probes, TLS and policy reloads, draining.
  { name: 'server', path: '^src/server/' },
  // What monitoring channels share: the signal derived from an admission, backoff, the queue meter.
  { name: 'signal', path: '^src/signal/' },
  // Monitoring channels: Prometheus metrics, Kubernetes Events, notifications.
  { name: 'channels', path: '^src/(metrics|events|notify)/' },
  // Monitoring wired from flags: which channels run, and the listeners they hang on the hooks.
  { name: 'monitoring', path: '^src/monitoring/' },
  // Findings as report objects (OpenReports, wg-policy): computed from the records, written by one
  // leader-elected reconcile loop off the admission path (serve --reports).
  { name: 'reports', path: '^src/reports/' },
  // The composition root: builds every dependency and starts the server.
  { name: 'serve', path: '^src/serve\\.ts$' },
  // The command line, on top of everything.
  { name: 'cli', path: '^src/(cli/|cli\\.ts$)' },
];

const upward = LAYERS.flatMap((layer, i) =>
  LAYERS.slice(i + 1).map((above) => ({
    name: `${layer.name}-below-${above.name}`,
    comment: `${layer.name} sits below ${above.name}: it may not import from it`,
    severity: 'error',
    from: { path: layer.path },
    to: { path: above.path },
  })),
);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle hides which module is lower', from: {}, to: { circular: true } },
    // Every module of src/ is in a layer: one that imports (from), one that is imported (to), and
    // one that does neither (orphan), so a module importing nothing of src/ is checked too.
    {
      name: 'in-a-layer',
      severity: 'error',
      comment: 'every module of src/ belongs to a layer listed in .dependency-cruiser.cjs',
      from: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    {
      name: 'imported-in-a-layer',
      severity: 'error',
      comment: 'every module of src/ belongs to a layer listed in .dependency-cruiser.cjs, also one that imports nothing of src/',
      from: {},
      to: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
    },
    {
      name: 'orphan-in-a-layer',
      severity: 'error',
      comment: 'every module of src/ belongs to a layer listed in .dependency-cruiser.cjs, also one nothing imports',
      from: { orphan: true, path: '^src/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    ...upward,
    {
      name: 'channels-independent',
      severity: 'error',
      comment: 'a monitoring channel shares only what signal/ holds, never another channel',
      from: { path: '^src/(metrics|events|notify)/' },
      to: { path: '^src/(metrics|events|notify)/', pathNot: '^src/$1/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
  },
};
