/**
 * Many writers patching one Deployment at once. The real API server runs each PATCH inside its
 * optimistic-concurrency loop: on a conflict (or when the first try started from the watch cache's
 * older copy) it re-reads the object and calls every webhook again, so driftguard's validating
 * webhook admits many more tries than the server persists. `history` and `explain` must report
 * only what was persisted, with the right last writer for every field.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  apiRequest,
  argocd as argocdAccount,
  argoSync,
  describeE2e,
  driftguardCli,
  eventually,
  getJson,
  installDriftguard,
  namespace,
  type Identity,
  type Obj,
  type Session,
} from './support/harness.js';
import { deployment } from './support/objects.js';
import { settled } from './support/records.js';

const NS = 'audit-conflicts';
const ROUNDS = 6;

interface Patch {
  writer: string;
  username: string;
  round: number;
  status: number;
  /** The resourceVersion the server answered with: the version this patch created. */
  rv: string;
  answeredAt: number;
}

describeE2e('concurrent writers and the API server conflict retries', () => {
  let s: Session;
  let patches: Patch[];
  let finals: Obj[];
  let live: Obj;

  beforeAll(async () => {
    s = await installDriftguard();
    await namespace(NS);
    const argocd = await argocdAccount();
    await argoSync(argocd, deployment(NS, 'web'));
    const writers: [string, Identity, string][] = [
      ['alice', 'alice', 'alice@example.com'],
      ['bob', 'bob', 'bob@example.com'],
      ['carol', 'carol', 'carol@example.com'],
      ['admin', 'admin', 'e2e-admin'],
      ['argocd', argocd, argocd.username],
    ];
    const url = `/apis/apps/v1/namespaces/${NS}/deployments/web?fieldManager=e2e-writer`;
    patches = [];
    // Every writer patches the shared annotation and one of its own, round after round, all at once.
    await Promise.all(
      writers.map(async ([writer, as, username]) => {
        for (let round = 1; round <= ROUNDS; round++) {
          const r = await apiRequest(as, 'PATCH', url, {
            metadata: { annotations: { 'e2e.driftguard.io/last': `${writer}-${round}`, [`e2e.driftguard.io/${writer}`]: String(round) } },
          });
          patches.push({ writer, username, round, status: r.status, rv: r.body?.metadata?.resourceVersion, answeredAt: Date.now() });
        }
      }),
    );
    live = await getJson('admin', ['deployment', 'web', '-n', NS]);
    // Change records are written off the request path: wait for at least one final per answered
    // patch, then for the rest of the tries to be written.
    const updates = () =>
      s.dg
        .records()
        .filter((r) => r.type === 'change' && r.stage === 'final' && r.resource.name === 'web' && r.resource.namespace === NS)
        .filter((r) => r.operation === 'UPDATE');
    await eventually('a final record per answered patch', async () => (updates().length >= patches.length ? true : undefined));
    await settled(s.dg);
    finals = updates();
  });
  afterAll(async () => {
    await s?.dg.stop();
  });

  it('persists every patch, but calls the validating webhook again for each retry, some from an older copy', () => {
    expect(patches.map((p) => p.status)).toEqual(patches.map(() => 200));
    // Each answered patch made one new version.
    expect(new Set(patches.map((p) => p.rv)).size).toBe(patches.length);
    // More admitted tries than persisted writes: the server retried inside its concurrency loop.
    expect(finals.length).toBeGreaterThan(patches.length);
    // A retry is the same request again: same requester and value, another uid and oldObject.
    const tries = new Map<string, Obj[]>();
    for (const f of finals) {
      const value = f.changes.find((c: Obj) => c.path === '/metadata/annotations/e2e.driftguard.io~1last')?.new;
      const k = `${f.actor.username} ${value}`;
      tries.set(k, [...(tries.get(k) ?? []), f]);
    }
    const retried = [...tries.values()].filter((l) => l.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const l of retried) {
      expect(new Set(l.map((f) => f.uid)).size).toBe(l.length);
      expect(new Set(l.map((f) => f.oldResourceVersion)).size).toBeGreaterThan(1);
    }
    // Stale starting points: a try whose oldObject is older than a version already answered.
    const answered = patches.map((p) => ({ rv: BigInt(p.rv), at: p.answeredAt }));
    const stale = finals.filter((f) => answered.some((a) => a.rv > BigInt(f.oldResourceVersion) && a.at < Date.parse(f.time)));
    console.log(
      `conflicts: ${patches.length} patches persisted, ${finals.length} admitted tries, ` +
        `${retried.length} requests retried (up to ${Math.max(...retried.map((l) => l.length))} tries), ${stale.length} tries from an older copy`,
    );
  });

  it('history lists exactly the persisted writes, each with its requester and value', async () => {
    const out = JSON.parse(await driftguardCli(['history', 'deploy/web', '-n', NS, s.dg.recordsFile, '--reverse', '-o', 'json']));
    const updates = (out.entries as Obj[]).filter((e) => e.kind === 'write' && e.operation === 'UPDATE');
    const seen = updates.map((e) => {
      const last = e.changes.find((c: Obj) => c.path === '/metadata/annotations/e2e.driftguard.io~1last');
      return `${e.actor.username} ${last?.new}`;
    });
    // In the order the server persisted them (resourceVersion order).
    const persisted = [...patches]
      .sort((a, b) => (BigInt(a.rv) < BigInt(b.rv) ? -1 : 1))
      .map((p) => `${p.username} ${p.writer}-${p.round}`);
    expect(seen).toEqual(persisted);
    expect(out.stats.superseded).toBe(finals.length - patches.length);
    // No leftover: every write changes what the previous persisted write left.
    for (const [i, e] of updates.entries()) {
      if (i === 0) continue;
      const last = e.changes.find((c: Obj) => c.path === '/metadata/annotations/e2e.driftguard.io~1last');
      const before = updates[i - 1]!.changes.find((c: Obj) => c.path === '/metadata/annotations/e2e.driftguard.io~1last');
      expect(last.old, `write ${i}`).toBe(before.new);
    }
  });

  it('explain names the writer of every field as the live object has it', async () => {
    const out = JSON.parse(await driftguardCli(['explain', 'deploy/web', '-n', NS, s.dg.recordsFile, '-o', 'json']));
    const annotations = live.metadata.annotations as Record<string, string>;
    const fields = new Map<string, Obj>((out.fields as Obj[]).map((f) => [f.path, f]));
    const usernames: Record<string, string> = Object.fromEntries(patches.map((p) => [p.writer, p.username]));
    const shared = fields.get('/metadata/annotations/e2e.driftguard.io~1last')!;
    expect(shared.value).toBe(annotations['e2e.driftguard.io/last']);
    expect(shared.lastWriter.username).toBe(usernames[annotations['e2e.driftguard.io/last']!.split('-')[0]!]);
    for (const writer of Object.keys(usernames)) {
      const f = fields.get(`/metadata/annotations/e2e.driftguard.io~1${writer}`)!;
      expect(f.value).toBe(String(ROUNDS));
      expect(annotations[`e2e.driftguard.io/${writer}`]).toBe(String(ROUNDS));
      expect(f.lastWriter.username).toBe(usernames[writer]);
      expect(f.writes).toBe(ROUNDS);
    }
    expect(out.writes).toBe(patches.length + 1);
  });

  it('audit counts each persisted write once, not each admitted try', async () => {
    const out = JSON.parse(await driftguardCli(['audit', s.dg.recordsFile, '-n', NS, '-o', 'json']));
    const people = patches.filter((p) => !p.username.startsWith('system:serviceaccount:'));
    expect(out.summary.counts.audited).toBe(people.length);
    expect(out.summary.total).toBe(people.length);
    // Every try wrote its violation record; the retried ones are set aside, not lost.
    const tries = s.dg.records().filter((r) => r.type === 'violation' && r.resource.namespace === NS).length;
    expect(out.read.superseded).toBe(tries - people.length);
    expect(out.read.superseded).toBeGreaterThan(0);
  });

  it('racing CREATEs of one name: each try admitted, one stored, and history shows that one', async () => {
    const argocd = await argocdAccount();
    const url = `/apis/apps/v1/namespaces/${NS}/deployments?fieldManager=e2e-writer`;
    const writers: [string, Identity][] = [
      ['alice@example.com', 'alice'],
      ['bob@example.com', 'bob'],
      [argocd.username, argocd],
    ];
    const answers = await Promise.all(
      writers.map(async ([username, as]) => ({
        username,
        ...(await apiRequest(as, 'POST', url, deployment(NS, 'race'), 'application/json')),
      })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    const stored = answers.find((a) => a.status === 201)!;
    // A later write names the stored object's uid.
    expect((await apiRequest(argocd, 'PATCH', `/apis/apps/v1/namespaces/${NS}/deployments/race`, { spec: { replicas: 3 } })).status).toBe(
      200,
    );
    // The three CREATEs' finals, then any retry of the PATCH still being written.
    await eventually('the final record of each CREATE try', async () =>
      s.dg.records().filter((r) => r.type === 'change' && r.stage === 'final' && r.resource.name === 'race' && r.operation === 'CREATE')
        .length >= 3
        ? true
        : undefined,
    );
    await settled(s.dg);
    const creates = s.dg
      .records()
      .filter((r) => r.type === 'change' && r.stage === 'final' && r.resource.name === 'race' && r.operation === 'CREATE');
    // The validating webhook admitted all three, each with a uid of its own.
    expect(new Set(creates.map((c) => c.objectUid)).size).toBe(3);
    const out = JSON.parse(await driftguardCli(['history', 'deploy/race', '-n', NS, s.dg.recordsFile, '--reverse', '-o', 'json']));
    expect((out.entries as Obj[]).map((e) => [e.operation, e.actor.username])).toEqual([
      ['CREATE', stored.username],
      ['UPDATE', argocd.username],
    ]);
    // Two CREATEs, and any retry of the PATCH (it may meet the deployment controller's first status write).
    const finals = s.dg.records().filter((r) => r.type === 'change' && r.stage === 'final' && r.resource.name === 'race');
    expect(out.stats.superseded).toBe(finals.length - 2);
  });
});
