/**
 * The fields of an object that a change to never counts as drift: the API server's and the
 * controllers' own bookkeeping. Lint (a rule or exception naming one is dead) and the engine (the
 * diff skips them) read this one list.
 */
/** Never drift: bookkeeping the API server and controllers own (docs/kubernetes.md, Never drift). */
export const NEVER_DRIFT: ReadonlySet<string> = new Set([
  '/metadata/resourceVersion',
  '/metadata/generation',
  '/metadata/managedFields',
  '/metadata/uid',
  '/metadata/creationTimestamp',
  '/metadata/selfLink',
  '/status',
  '/metadata/annotations/deployment.kubernetes.io~1revision',
  '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
]);
