/**
 * Records a real kube-apiserver produced (test/e2e/conflicts.test.ts, captured once): 5 writers, 6
 * merge patches each, all at once, against one Deployment. The server persisted 30 writes and,
 * retrying inside its concurrency loop, had driftguard admit many more tries. The persisted order
 * (by the resourceVersion each answer carried) is in conflict-retries.persisted.json.
 */
import { describe, expect, it } from 'vitest';
import { toEntries } from '../../src/audit/entry.js';
import { explainTimeline } from '../../src/ledger/explain.js';
import { parseTarget } from '../../src/ledger/target.js';
import { buildTimeline } from '../../src/ledger/timeline.js';
import { readRecords } from '../../src/records/read.js';
import { fixturePath, readJson } from '../support/fixtures.js';

const LAST = '/metadata/annotations/e2e.driftguard.io~1last';
const persisted = readJson<{ username: string; last: string; resourceVersion: string }[]>('ledger', 'conflict-retries.persisted.json');

async function records() {
  return (await readRecords([fixturePath('ledger', 'conflict-retries.jsonl')])).records;
}

describe('conflict retries captured from the real API server', () => {
  it('the capture holds more admitted tries than persisted writes', async () => {
    const finals = (await records()).filter((r) => r.type === 'change' && r.stage === 'final' && r.operation === 'UPDATE');
    expect(persisted).toHaveLength(30);
    expect(finals.length).toBeGreaterThan(persisted.length * 2);
  });

  it('the timeline holds exactly the persisted writes, in the order the server persisted them', async () => {
    const all = await records();
    const { entries, stats } = buildTimeline(all, parseTarget('deploy/web', 'audit-conflicts'));
    const updates = entries.filter((e) => e.kind === 'write' && e.operation === 'UPDATE');
    expect(updates.map((e) => `${e.actor.username} ${e.changes.find((c) => c.path === LAST)?.new}`)).toEqual(
      persisted.map((p) => `${p.username} ${p.last}`),
    );
    const finals = all.filter((r) => r.type === 'change' && r.stage === 'final' && r.operation === 'UPDATE').length;
    expect(stats.superseded).toBe(finals - persisted.length);
  });

  it('explain names the last persisted writer of every field', async () => {
    const { entries } = buildTimeline(await records(), parseTarget('deploy/web', 'audit-conflicts'));
    const x = explainTimeline(entries);
    const last = persisted[persisted.length - 1]!;
    const shared = x.fields.find((f) => f.path === LAST)!;
    expect([shared.value, shared.lastWriter]).toEqual([last.last, expect.objectContaining({ kind: 'actor', username: last.username })]);
    for (const writer of ['alice', 'bob', 'carol', 'admin', 'argocd']) {
      const f = x.fields.find((y) => y.path === `/metadata/annotations/e2e.driftguard.io~1${writer}`)!;
      const mine = persisted.filter((p) => p.last.startsWith(`${writer}-`));
      expect([f.value, f.lastWriter, f.writes]).toEqual(['6', expect.objectContaining({ kind: 'actor', username: mine[0]!.username }), 6]);
    }
  });

  it('audit counts each persisted write by a person once', async () => {
    const { entries, stats } = toEntries(await records());
    const people = persisted.filter((p) => !p.username.startsWith('system:serviceaccount:'));
    expect(entries.filter((e) => e.decision === 'audited')).toHaveLength(people.length);
    expect(stats.superseded).toBeGreaterThan(0);
  });
});
