/**
 * Fields the API server itself sets after the mutating webhooks have run and before the validating
 * webhooks are called (docs/api-server.md, "What the exit observer added"): the validating call sees
 * them, no mutating webhook does. With the exit observer folded into the validating call, a field
 * that the validating call has and the entry observer lacks was set by a mutating webhook, unless it
 * is one of these. Bookkeeping (uid, creationTimestamp, generation, status, ...) is NEVER_DRIFT and
 * never reaches the ledger at all.
 *
 * From Kubernetes v1.37.2: generateName (the name is made in the store's BeforeCreate), the
 * Service REST's beginCreate/beginUpdate (cluster IPs, IP families, node ports), the Job strategy's
 * PrepareForCreate (the generated selector and its template labels), the Namespace strategy's
 * PrepareForCreate (the `kubernetes` finalizer).
 */

/** A write as a change record names it. */
export interface WriteResource {
  group: string;
  resource: string;
  subResource?: string;
}

const ANY: readonly RegExp[] = [/^\/metadata\/(name|namespace)$/];

const BY_RESOURCE: ReadonlyMap<string, readonly RegExp[]> = new Map([
  [
    '/services',
    [
      /^\/spec\/clusterIPs?(\/|$)/,
      /^\/spec\/ipFamil(ies|yPolicy)(\/|$)/,
      /^\/spec\/ports\/\d+\/nodePort$/,
      /^\/spec\/healthCheckNodePort$/,
    ],
  ],
  ['batch/jobs', [/^\/spec\/selector(\/|$)/, /^\/spec\/template\/metadata\/labels\/(batch\.kubernetes\.io~1)?(controller-uid|job-name)$/]],
  ['/namespaces', [/^\/spec\/finalizers(\/|$)/]],
]);

/** Whether the API server sets `pointer` (a JSON Pointer) of this resource between mutating and validating admission. */
export function setAfterMutation(resource: WriteResource, pointer: string): boolean {
  if (resource.subResource !== undefined && resource.subResource !== '') return false;
  if (ANY.some((re) => re.test(pointer))) return true;
  const patterns = BY_RESOURCE.get(`${resource.group}/${resource.resource}`);
  return patterns !== undefined && patterns.some((re) => re.test(pointer));
}
