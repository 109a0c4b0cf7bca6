/**
 * The changes a write makes, as the change ledger records them: leaf by leaf for CREATE (so
 * `explain` can say what GitOps set in the first place) and UPDATE, the whole object for DELETE.
 * Bookkeeping that is never drift (resourceVersion, managedFields, status, ...) is left out. Pure.
 */
import type { AdmissionRequest } from '../k8s/admission.js';
import { diff, type DiffResult } from './diff.js';
import { NEVER_DRIFT } from '../k8s/never-drift.js';
import type { RequestFacts } from './request.js';

export function ledgerChanges(request: AdmissionRequest, facts?: RequestFacts): DiffResult {
  switch (request.operation) {
    case 'CREATE':
      return diff(undefined, request.object ?? undefined, { ignore: NEVER_DRIFT });
    case 'DELETE':
      return { changes: [{ path: '', op: 'remove' }], truncated: false };
    case 'UPDATE':
      // The evaluation may already have diffed this request; RequestFacts caches it.
      return facts !== undefined && facts.request === request
        ? facts.changes()
        : diff(request.oldObject ?? undefined, request.object ?? undefined, { ignore: NEVER_DRIFT });
    default:
      return { changes: [], truncated: false };
  }
}
