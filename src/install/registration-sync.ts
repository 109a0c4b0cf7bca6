/**
 * The webhook registration in the cluster, kept in step with the loaded policies (off the request
 * path: after the start and after every reload, one run at a time).
 *
 * - With `manage` (`serve --manage-webhooks`): each of driftguard's three configurations is read,
 *   the rules and matchConditions of driftguard's own webhook in it are replaced with the ones the
 *   policies need (src/policy/registration.ts), and the object is written back with its
 *   resourceVersion (a conflict is read again and retried). Nothing else is touched: the caBundle,
 *   the namespaceSelector with its lockout exclusions, timeouts, labels, annotations, other webhooks
 *   in the same configuration. Nothing is written when nothing changed. Each update is logged and
 *   counted (driftguard_webhook_registration_updates_total).
 * - Always: the validating webhook as registered is compared with the policies
 *   (src/policy/coverage.ts); each gap is a warning in the log, the count is the gauge
 *   driftguard_policy_coverage_gaps, and the gaps are lines in /readyz's body.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import { coverageGaps, type CoverageGap, type RegisteredWebhook } from '../policy/coverage.js';
import { registrationFor, type Registration } from '../policy/registration.js';
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
        for (const target of DRIFTGUARD_WEBHOOKS) {
          if (await this.update(target, registration)) updated.push(target.configuration);
        }
      }
      const validating = DRIFTGUARD_WEBHOOKS[0];
      const res = await client.request('GET', pathOf(validating.kind, validating.configuration));
      if (res.status !== 200) throw new Error(`GET ${validating.kind} ${validating.configuration} answered ${res.status}`);
      const webhook = ((res.body as Obj).webhooks as RegisteredWebhook[] | undefined)?.find((w) => (w as Obj).name === validating.webhook);
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
      logger.error({ err: { message: error }, updated }, 'webhook registration: cannot read or update it; trying again later');
      return { updated, gaps: this.last, error };
    }
  }

  private async update(target: (typeof DRIFTGUARD_WEBHOOKS)[number], registration: Registration): Promise<boolean> {
    const { client, logger } = this.opts;
    const path = pathOf(target.kind, target.configuration);
    for (let attempt = 1; ; attempt++) {
      const got = await client.request('GET', path);
      if (got.status !== 200) throw new Error(`GET ${target.kind} ${target.configuration} answered ${got.status}`);
      const next = withRegistration(got.body as Obj, target.webhook, registration);
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
