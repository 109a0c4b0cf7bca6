/**
 * Leader election over one coordination.k8s.io/v1 Lease (@kubernetes/client-node has no helper for
 * it, so this is a small loop of its own): a candidate takes the Lease when nobody holds
 * it or the holder's renewTime is older than leaseDurationSeconds, and the holder renews it every
 * retry period. Every write is an update at the resourceVersion just read, so two candidates racing
 * for one Lease cannot both win: the API server answers the second with 409 Conflict. A leader that
 * cannot renew within `renewDeadlineMs` stops leading before its Lease can have expired for others;
 * on close it releases the Lease (holder cleared) so another replica takes over at once.
 */
import type { Logger } from 'pino';
import type { KubeClient } from '../cluster/kube.js';
import { Waker } from '../signal/backoff.js';

export interface LeaseOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** This replica's identity (pod name and a random suffix). */
  identity: string;
  /** How long a Lease not renewed stays another's (default 15 s). */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long steps down (default 10 s). */
  renewDeadlineMs: number;
  /** How often to try to take or renew the Lease (default 2 s). */
  retryPeriodMs: number;
  clock: () => Date;
  logger: Logger;
  onChange: (leading: boolean) => void;
}

export const DEFAULT_LEASE = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

interface LeaseObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaseElector {
  private readonly o: LeaseOptions;
  private readonly waker = new Waker();
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(opts: LeaseOptions) {
    this.o = opts;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.o.logger.info(
      { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity },
      leading ? 'report writer: leading' : 'report writer: not leading',
    );
    this.o.onChange(leading);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const ok = await this.tryAcquireOrRenew();
        if (ok) {
          this.lastRenew = this.o.clock().getTime();
          this.setLeading(true);
        } else if (!this.leading || this.o.clock().getTime() - this.lastRenew > this.o.renewDeadlineMs) this.setLeading(false);
      } catch (err) {
        this.o.logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'report writer: lease call failed');
        if (this.leading && this.o.clock().getTime() - this.lastRenew > this.o.renewDeadlineMs) this.setLeading(false);
      }
      if (this.stopped) break;
      await this.waker.wait(this.o.retryPeriodMs);
    }
  }

  /** True when this replica holds the Lease after the call. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock();
    const got = await this.o.client.request('GET', this.path(this.o.name));
    const durationSeconds = Math.max(1, Math.ceil(this.o.leaseDurationMs / 1000));
    if (got.status === 404) {
      const created = await this.o.client.request('POST', this.path(), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: {
            holderIdentity: this.o.identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        },
      });
      return created.status === 201 || created.status === 200;
    }
    if (got.status !== 200) throw new Error(`GET lease: HTTP ${got.status}`);
    const lease = got.body as LeaseObject;
    const holder = lease.spec.holderIdentity ?? '';
    const renewed = lease.spec.renewTime === undefined ? 0 : Date.parse(lease.spec.renewTime);
    const expiresAt = renewed + (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const mine = holder === this.o.identity;
    if (!mine && holder !== '' && expiresAt > now.getTime()) return false;
    const spec: LeaseObject['spec'] = {
      ...lease.spec,
      holderIdentity: this.o.identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(now),
    };
    if (!mine) {
      spec.acquireTime = microTime(now);
      spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1;
    }
    const put = await this.o.client.request('PUT', this.path(this.o.name), { body: { ...lease, spec } });
    if (put.status === 409) return false;
    if (put.status !== 200) throw new Error(`PUT lease: HTTP ${put.status}`);
    return true;
  }

  /** Stop, and release the Lease when held (so another replica need not wait for it to expire). */
  async close(): Promise<void> {
    this.stopped = true;
    this.waker.wake();
    await this.loop;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const got = await this.o.client.request('GET', this.path(this.o.name));
      if (got.status !== 200) return;
      const lease = got.body as LeaseObject;
      if (lease.spec.holderIdentity !== this.o.identity) return;
      await this.o.client.request('PUT', this.path(this.o.name), {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1 } },
      });
    } catch {
      // The Lease expires by itself.
    }
  }
}
