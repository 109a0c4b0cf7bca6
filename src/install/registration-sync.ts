/**
 * The webhook registration in the cluster, kept in step with the loaded policies (off the request
 * path: after the start and after every reload, one run at a time).
 *
 * - With `manage` (`serve --manage-webhooks`): each of driftguard's configurations is read,
 *   the rules and matchConditions of driftguard's own webhook in it are replaced with the ones the
 *   policies need (src/policy/registration.ts; the entry observer's: src/policy/observer-registration.ts,
 *   following `observe`), and the object is written back with its
 *   resourceVersion (a conflict is read again and retried). Nothing else is touched: the caBundle,
 *   the namespaceSelector with its lockout exclusions, timeouts, labels, annotations, other webhooks
 *   in the same configuration. Nothing is written when nothing changed. An observer configuration
 *   that is not installed (`manifests --observe none`) is left uninstalled. Each update is logged and
 *   counted (driftguard_webhook_registration_updates_total).
 * - Always: the validating webhook as registered is compared with the policies
 *   (src/policy/coverage.ts); each gap is a warning in the log, the count is the gauge
 *   driftguard_policy_coverage_gaps, and the gaps are lines in /readyz's body.
 *
 * A configuration that is not there (404: not applied yet) is retried like any failure, but logged
 * as what it is: one warn-level line naming the command that installs it, then, once it is found,
 * an info line. Anything else (403, a TLS or network failure, a rejected update) is an error, each
 * time.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { coverageGaps, type CoverageGap, type RegisteredWebhook } from '../policy/coverage.js';
import { registrationFor, type Registration } from '../policy/registration.js';
import { observerRegistrationFor } from '../policy/observer-registration.js';
import type { ObserveMode } from '../policy/schema.js';
import { DRIFTGUARD_WEBHOOKS } from './webhooks.js';
import type { DriftPolicy } from '../policy/schema.js';
import { lookupForPolicies } from '../cluster/discovery.js';
import type { KubeClient } from '../cluster/kube.js';

const API = '/apis/admissionregistration.k8s.io/v1';

function pathOf(kind: string, name: string): string {
  return `${API}/${kind === 'ValidatingWebhookConfiguration' ? 'validatingwebhookconfigurations' : 'mutatingwebhookconfigurations'}/${encodeURIComponent(name)}`;
}

type Obj = Record<string, unknown>;

export interface RegistrationKeeperOptions {
  client: KubeClient;
  logger: Logger;
  manage: boolean;
  /** `serve --observe`: `none` sends the entry observer nothing. Default `full`. */
  observe?: ObserveMode;
  /** The gap count after each check (the gauge). */
  onGaps?: (gaps: readonly CoverageGap[]) => void;
  /** A configuration was updated (the counter). */
  onUpdate?: (configuration: string) => void;
  /**
   * After a failed run (the configurations not installed yet, the API server unreachable), try again
   * this long after, doubling up to 5 minutes, until a run succeeds or newer policies arrive. Default 5 s.
   */
  retryMs?: number;
}

const MAX_RETRY_MS = 5 * 60_000;

/** How to install the configurations, as the not-registered line says it. */
export const INSTALL_HINT = 'driftguard manifests --policies DIR --ca ca.crt | kubectl apply -f -';

/** A configuration driftguard needs answered 404: not applied yet. */
class NotRegistered extends Error {
  constructor(
    readonly kind: string,
    readonly configuration: string,
  ) {
    super(`${kind} ${configuration} is not in the cluster`);
  }
}

/** GET one of driftguard's configurations: its body, NotRegistered on 404, an Error otherwise. */
async function getConfiguration(client: KubeClient, kind: string, configuration: string): Promise<Obj> {
  const res = await client.request('GET', pathOf(kind, configuration));
  if (res.status === 404) throw new NotRegistered(kind, configuration);
  if (res.status !== 200) throw new Error(`GET ${kind} ${configuration} answered ${res.status}`);
  return res.body as Obj;
}

export interface SyncOutcome {
  updated: string[];
  gaps: CoverageGap[];
  /** Set when the cluster could not be read or written; the previous state stays in force. */
  error?: string;
}

/** JSON with object keys sorted: the API server serves fields in its own order (operations first in a rule). */
function canonical(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** The configuration with driftguard's webhook's rules and matchConditions set to `registration`, or undefined when they already are. */
export function withRegistration(
  config: Obj,
  webhookName: string,
  registration: Pick<Registration, 'rules' | 'matchConditions'>,
): Obj | undefined {
  const webhooks = Array.isArray(config.webhooks) ? (config.webhooks as Obj[]) : [];
  const i = webhooks.findIndex((w) => w.name === webhookName);
  if (i < 0) return undefined;
  const current = webhooks[i]!;
  const conditions = registration.matchConditions.length === 0 ? undefined : registration.matchConditions;
  if (sameJson(current.rules, registration.rules) && sameJson(current.matchConditions, conditions)) return undefined;
  const next: Obj = { ...current, rules: structuredClone(registration.rules) };
  if (conditions === undefined) delete next.matchConditions;
  else next.matchConditions = structuredClone(conditions);
  return { ...config, webhooks: webhooks.map((w, j) => (j === i ? next : w)) };
}

export class RegistrationKeeper {
  private running: Promise<unknown> = Promise.resolve();
  private last: CoverageGap[] = [];
  private generation = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last run found a configuration missing (its warning is logged once until it is found). */
  private missing = false;

  constructor(private readonly opts: RegistrationKeeperOptions) {}

  /** The gaps found by the last check. */
  gaps(): readonly CoverageGap[] {
    return this.last;
  }

  /** Bring the registration in step with `policies` (with manage) and check it; runs after the previous sync. Never rejects. */
  sync(policies: readonly DriftPolicy[]): Promise<SyncOutcome> {
    const generation = ++this.generation;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
    return this.queue(policies, generation, this.opts.retryMs ?? 5_000);
  }

  /** No more retries (shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
  }

  private queue(policies: readonly DriftPolicy[], generation: number, delayMs: number): Promise<SyncOutcome> {
    const next = this.running.then(async () => {
      const outcome = await this.run(policies);
      if (outcome.error !== undefined && !this.stopped && generation === this.generation) {
        this.retry = setTimeout(() => void this.queue(policies, generation, Math.min(delayMs * 2, MAX_RETRY_MS)), delayMs);
        this.retry.unref();
      }
      return outcome;
    });
    this.running = next;
    return next;
  }

  private async run(policies: readonly DriftPolicy[]): Promise<SyncOutcome> {
    const { client, logger } = this.opts;
    const updated: string[] = [];
    try {
      const lookup = await lookupForPolicies(policies, client);
      const registration = registrationFor(policies, lookup);
      if (this.opts.manage) {
        const observer = observerRegistrationFor(policies, lookup, this.opts.observe);
        for (const target of DRIFTGUARD_WEBHOOKS) {
          const wanted = target.kind === 'ValidatingWebhookConfiguration' ? registration : observer;
          if (await this.update(target, wanted)) updated.push(target.configuration);
        }
      }
      const validating = DRIFTGUARD_WEBHOOKS[0];
      const body = await getConfiguration(client, validating.kind, validating.configuration);
      if (this.missing) logger.info({ configuration: validating.configuration }, 'webhook registration found');
      this.missing = false;
      const webhook = (body.webhooks as RegisteredWebhook[] | undefined)?.find((w) => (w as Obj).name === validating.webhook);
      const gaps = coverageGaps(policies, webhook ?? {}, lookup);
      if (webhook === undefined)
        gaps.unshift({ policy: '*', what: 'webhook', message: `${validating.configuration} has no webhook ${validating.webhook}` });
      for (const g of gaps) logger.warn({ policy: g.policy, resource: g.what }, `policy coverage gap: ${g.message}`);
      if (gaps.length === 0) logger.info({ policies: policies.length }, 'webhook registration sends everything the policies cover');
      this.last = gaps;
      this.opts.onGaps?.(gaps);
      return { updated, gaps };
    } catch (err) {
      const error = errorMessage(err);
      if (err instanceof NotRegistered) {
        if (!this.missing) logger.warn({ kind: err.kind, configuration: err.configuration }, `not registered yet: ${INSTALL_HINT}`);
        else logger.debug({ kind: err.kind, configuration: err.configuration }, 'webhook registration still not found; trying again later');
        this.missing = true;
        return { updated, gaps: this.last, error };
      }
      logger.error({ err: { message: error }, updated }, 'webhook registration: cannot read or update it; trying again later');
      return { updated, gaps: this.last, error };
    }
  }

  private async update(target: (typeof DRIFTGUARD_WEBHOOKS)[number], registration: Registration): Promise<boolean> {
    const { client, logger } = this.opts;
    const path = pathOf(target.kind, target.configuration);
    for (let attempt = 1; ; attempt++) {
      let got: Obj;
      try {
        got = await getConfiguration(client, target.kind, target.configuration);
      } catch (err) {
        // An observer left uninstalled (`manifests --observe none`) stays so.
        if (err instanceof NotRegistered && target.kind === 'MutatingWebhookConfiguration') return false;
        throw err;
      }
      const next = withRegistration(got, target.webhook, registration);
      if (next === undefined) return false;
      const put = await client.request('PUT', path, { body: next });
      if (put.status === 200) {
        logger.info(
          { configuration: target.configuration, rules: registration.rules.length, matchConditions: registration.matchConditions.length },
          'webhook registration updated to follow the policies',
        );
        this.opts.onUpdate?.(target.configuration);
        return true;
      }
      if (put.status === 409 && attempt < 5) continue; // changed meanwhile: read it again
      const message = typeof (put.body as Obj | undefined)?.message === 'string' ? `: ${(put.body as Obj).message as string}` : '';
      throw new Error(`PUT ${target.kind} ${target.configuration} answered ${put.status}${message}`);
    }
  }
}
