import { describe, expect, it } from 'vitest';
import { adoptReport } from '../../src/reports/adopt.js';
import type { ObjectReport, ReportResult } from '../../src/reports/compute.js';

const LIMITS = { maxResults: 50, deniedAttempts: 5 };
const NOW = new Date('2030-01-01T00:00:00Z');
const ctx = (loaded: string[], opts: { written?: Record<string, string>; limits?: typeof LIMITS; now?: Date } = {}) => ({
  loaded: new Set(loaded),
  limits: opts.limits ?? LIMITS,
  written: new Map(Object.entries(opts.written ?? {})),
  now: opts.now ?? NOW,
});
const base = { category: 'GitOps drift', source: 'driftguard', timestamp: { seconds: 1, nanos: 0 } };
const result = (policy: string, r: ReportResult['result'], properties: Record<string, string> = {}): ReportResult => ({
  ...base,
  policy,
  result: r,
  message: `${policy} ${r}`,
  properties,
});
const report = (results: ReportResult[]): ObjectReport => ({
  scope: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web', uid: 'u' },
  results,
  summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 },
  trimmed: 0,
  written: new Map(),
});

describe('adoptReport: a new leader keeps what the old one wrote', () => {
  it('unions the denied attempts of a policy both know, newest first, none twice; the new result wins over a pass', () => {
    const mine = report([
      result('argocd-prod', 'pass', {
        deniedAttempts: '2',
        'denied.1': '2026-12-01T10:09:00.000Z alice: /metadata/labels/x',
        'denied.2': '2026-12-01T10:06:00.000Z alice: /spec/replicas',
      }),
    ]);
    const old = {
      results: [
        result('argocd-prod', 'pass', {
          deniedAttempts: '2',
          'denied.1': '2026-12-01T10:06:00.000Z alice: /spec/replicas',
          'denied.2': '2026-12-01T10:05:00.000Z alice: /spec/template/spec/containers[name=app]/image',
        }),
      ],
    };
    const out = adoptReport(mine, old, ctx(['argocd-prod']));
    expect(out.results).toHaveLength(1);
    expect(out.results[0]!.result).toBe('pass');
    expect(out.results[0]!.properties).toEqual({
      deniedAttempts: '3',
      'denied.1': '2026-12-01T10:09:00.000Z alice: /metadata/labels/x',
      'denied.2': '2026-12-01T10:06:00.000Z alice: /spec/replicas',
      'denied.3': '2026-12-01T10:05:00.000Z alice: /spec/template/spec/containers[name=app]/image',
    });
    expect(out.summary).toEqual({ pass: 1, fail: 0, warn: 0, error: 0, skip: 0 });
  });

  it('keeps results of loaded policies it has no records of, drops unloaded ones, recounts, and keeps the bound', () => {
    const mine = report([result('b', 'pass')]);
    const old = { results: [result('a', 'warn'), result('gone', 'fail'), { policy: 7 }] };
    const out = adoptReport(mine, old, ctx(['a', 'b']));
    expect(out.results.map((r) => [r.policy, r.result])).toEqual([
      ['a', 'warn'],
      ['b', 'pass'],
    ]);
    expect(out.summary).toEqual({ pass: 1, fail: 0, warn: 1, error: 0, skip: 0 });
    const bounded = adoptReport(mine, old, ctx(['a', 'b'], { limits: { maxResults: 1, deniedAttempts: 5 } }));
    expect(bounded.results.map((r) => r.policy)).toEqual(['a']);
    expect(bounded.trimmed).toBe(1);
  });

  it('nothing to adopt: the report as computed', () => {
    const mine = report([result('b', 'pass')]);
    expect(adoptReport(mine, undefined, ctx(['b']))).toBe(mine);
  });

  const IMAGE = '/spec/template/spec/containers[name=app]/image';
  const glass = (expires: string) =>
    result('argocd-prod', 'warn', {
      fields: IMAGE,
      [IMAGE]: 'set by carol at 2026-12-01T10:00:00.000Z; in drift since 2026-12-01T10:00:00.000Z',
      breakGlassBy: 'carol',
      breakGlassReason: 'E2E-1',
      breakGlassExpires: expires,
      deniedAttempts: '1',
      'denied.1': '2026-12-01T09:00:00.000Z alice: /spec/replicas',
    });

  it('takeover: a finding the old leader saw stands when this replica saw only a denial (no flip to pass)', () => {
    const mine = report([
      result('argocd-prod', 'pass', { deniedAttempts: '1', 'denied.1': '2026-12-01T11:00:00.000Z alice: /metadata/labels/x' }),
    ]);
    const out = adoptReport(mine, { results: [glass('2099-01-01T00:00:00Z')] }, ctx(['argocd-prod']));
    expect(out.results[0]).toMatchObject({ policy: 'argocd-prod', result: 'warn', message: 'argocd-prod warn' });
    expect(out.results[0]!.properties).toEqual({
      fields: IMAGE,
      [IMAGE]: 'set by carol at 2026-12-01T10:00:00.000Z; in drift since 2026-12-01T10:00:00.000Z',
      breakGlassBy: 'carol',
      breakGlassReason: 'E2E-1',
      breakGlassExpires: '2099-01-01T00:00:00Z',
      deniedAttempts: '2',
      'denied.1': '2026-12-01T11:00:00.000Z alice: /metadata/labels/x',
      'denied.2': '2026-12-01T09:00:00.000Z alice: /spec/replicas',
    });
    expect(out.summary).toEqual({ pass: 0, fail: 0, warn: 1, error: 0, skip: 0 });
    // The report is written again when the carried break-glass entry expires.
    expect(out.nextChangeAt).toBe(Date.parse('2099-01-01T00:00:00Z'));
  });

  it("takeover: a field this replica saw written after the old finding is its own records' to decide (a revert ends it)", () => {
    const mine = report([result('argocd-prod', 'pass')]);
    const reverted = adoptReport(
      mine,
      { results: [glass('2099-01-01T00:00:00Z')] },
      ctx(['argocd-prod'], { written: { [IMAGE]: '2026-12-01T12:00:00.000Z' } }),
    );
    expect(reverted.results[0]!.result).toBe('pass');
    expect(reverted.results[0]!.properties.fields).toBeUndefined();
    // Written before the old finding: the old finding is newer, and stands.
    const older = adoptReport(
      mine,
      { results: [glass('2099-01-01T00:00:00Z')] },
      ctx(['argocd-prod'], { written: { [IMAGE]: '2026-12-01T09:30:00.000Z' } }),
    );
    expect(older.results[0]!.result).toBe('warn');
  });

  it("takeover: this replica's own finding and the old one are joined; an expired carried entry is fail", () => {
    const mine = report([
      result('argocd-prod', 'warn', {
        fields: '/data/a',
        '/data/a': 'set by dave at 2026-12-01T11:00:00.000Z; in drift since 2026-12-01T11:00:00.000Z',
      }),
    ]);
    const joined = adoptReport(mine, { results: [glass('2099-01-01T00:00:00Z')] }, ctx(['argocd-prod']));
    expect(joined.results[0]).toMatchObject({ result: 'warn', message: 'argocd-prod warn' });
    expect(joined.results[0]!.properties.fields).toBe(`/data/a, ${IMAGE}`);
    // No result of this replica's own, and the old entry expired: fail, as compute.ts says it.
    const expired = adoptReport(report([]), { results: [glass('2029-06-01T00:00:00Z')] }, ctx(['argocd-prod']));
    expect(expired.results[0]!.result).toBe('fail');
    expect(expired.results[0]!.message).toBe(
      `in drift from Git with no break-glass entry in effect (it expired at 2029-06-01T00:00:00Z): ${IMAGE} (set by carol, in drift since 2026-12-01T10:00:00.000Z)`,
    );
    expect(expired.summary).toMatchObject({ fail: 1, warn: 0 });
    // Reverted by a write this replica saw, and no result of its own: pass, the denials kept.
    const gone = adoptReport(
      report([]),
      { results: [glass('2099-01-01T00:00:00Z')] },
      ctx(['argocd-prod'], { written: { [IMAGE]: '2026-12-02T00:00:00.000Z' } }),
    );
    expect(gone.results[0]).toMatchObject({ result: 'pass', message: 'Git and the live object agree' });
    expect(gone.results[0]!.properties).toEqual({ deniedAttempts: '1', 'denied.1': '2026-12-01T09:00:00.000Z alice: /spec/replicas' });
  });
});
