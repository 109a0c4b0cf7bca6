import { describe, expect, it } from 'vitest';
import { adoptReport } from '../../src/reports/adopt.js';
import type { ObjectReport, ReportResult } from '../../src/reports/compute.js';

const LIMITS = { maxResults: 50, deniedAttempts: 5 };
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
});

describe('adoptReport: a new leader keeps what the old one wrote', () => {
  it('unions the denied attempts of a policy both know, newest first, none twice; the new result wins', () => {
    const mine = report([
      result('argocd-prod', 'pass', {
        deniedAttempts: '2',
        'denied.1': '2026-12-01T10:09:00.000Z alice: /metadata/labels/x',
        'denied.2': '2026-12-01T10:06:00.000Z alice: /spec/replicas',
      }),
    ]);
    const old = {
      results: [
        result('argocd-prod', 'warn', {
          deniedAttempts: '2',
          'denied.1': '2026-12-01T10:06:00.000Z alice: /spec/replicas',
          'denied.2': '2026-12-01T10:05:00.000Z alice: /spec/template/spec/containers[name=app]/image',
          fields: '/x',
        }),
      ],
    };
    const out = adoptReport(mine, old, new Set(['argocd-prod']), LIMITS);
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
    const out = adoptReport(mine, old, new Set(['a', 'b']), LIMITS);
    expect(out.results.map((r) => [r.policy, r.result])).toEqual([
      ['a', 'warn'],
      ['b', 'pass'],
    ]);
    expect(out.summary).toEqual({ pass: 1, fail: 0, warn: 1, error: 0, skip: 0 });
    const bounded = adoptReport(mine, old, new Set(['a', 'b']), { maxResults: 1, deniedAttempts: 5 });
    expect(bounded.results.map((r) => r.policy)).toEqual(['a']);
    expect(bounded.trimmed).toBe(1);
  });

  it('nothing to adopt: the report as computed', () => {
    const mine = report([result('b', 'pass')]);
    expect(adoptReport(mine, undefined, new Set(['b']), LIMITS)).toBe(mine);
  });
});
