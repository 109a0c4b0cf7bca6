/**
 * The alerts in manifests/monitoring/prometheusrule.yaml, checked by promtool (Debian package
 * prometheus, installed by scripts/ensure-system-deps.sh): the rule groups are extracted into a
 * plain rules file, `promtool check rules` validates them and `promtool test rules` runs the cases
 * in test/fixtures/monitoring/alerts.test.yaml. And every metric the rules read is one driftguard
 * exports, so renaming a metric cannot silently blind an alert.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { registerStoreMetrics } from '../../src/metrics/store-metrics.js';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DriftguardMetrics } from '../../src/metrics/metrics.js';
import { fixturePath, REPO } from '../support/fixtures.js';

const run = promisify(execFile);
const PROMTOOL = process.env.DRIFTGUARD_PROMTOOL ?? 'promtool';
const RULE = path.join(REPO, 'manifests/monitoring/prometheusrule.yaml');

function rule(): any {
  return parse(readFileSync(RULE, 'utf8'));
}

async function promtool(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(PROMTOOL, args, { timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err: any) {
    if (err.code === 'ENOENT')
      throw new Error(
        `promtool not found: run scripts/ensure-system-deps.sh (as root, installs the Debian package prometheus) or set DRIFTGUARD_PROMTOOL`,
      );
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('PrometheusRule', () => {
  it('is a monitoring.coreos.com/v1 PrometheusRule with the four kinds of alert', () => {
    const r = rule();
    expect(r.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(r.kind).toBe('PrometheusRule');
    const alerts = r.spec.groups.flatMap((g: any) => g.rules.map((x: any) => x.alert));
    expect(alerts).toEqual(
      expect.arrayContaining([
        'DriftguardManualEditsDenied',
        'DriftguardDriftObserved',
        'DriftguardWebhookErrors',
        'DriftguardWebhookSlow',
        'DriftguardCertificateExpiringSoon',
        'DriftguardPolicyCoverageGap',
      ]),
    );
  });

  it('passes promtool check rules and the promtool unit tests', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-promtool-'));
    writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: rule().spec.groups }));
    copyFileSync(fixturePath('monitoring', 'alerts.test.yaml'), path.join(dir, 'alerts.test.yaml'));
    const check = await promtool(['check', 'rules', path.join(dir, 'rules.yaml')]);
    expect(check.out).toContain('SUCCESS');
    expect(check.code).toBe(0);
    const test = await promtool(['test', 'rules', path.join(dir, 'alerts.test.yaml')]);
    expect(test.out).toContain('SUCCESS');
    expect(test.code, test.out).toBe(0);
  });

  it('promtool fails a rule file whose alert does not fire as the cases expect', async () => {
    // The harness can fail: drop the clause that catches a new series' first denial.
    const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-promtool-'));
    const groups = rule().spec.groups;
    const denied = groups[0].rules.find((x: any) => x.alert === 'DriftguardManualEditsDenied');
    denied.expr = 'sum by (policy, kind) (increase(driftguard_admission_requests_total{decision="denied",dry_run="false"}[10m])) > 0';
    writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups }));
    copyFileSync(fixturePath('monitoring', 'alerts.test.yaml'), path.join(dir, 'alerts.test.yaml'));
    const test = await promtool(['test', 'rules', path.join(dir, 'alerts.test.yaml')]);
    expect(test.code).not.toBe(0);
    expect(test.out).toMatch(/alertname: DriftguardManualEditsDenied, time: 16m/);
  });

  it('reads only metrics driftguard exports', async () => {
    const registry = new Registry();
    new DriftguardMetrics({ registry, clock: () => new Date() });
    registerStoreMetrics(registry, { spoolBytes: () => 0, lagSeconds: () => 0, spoolMaxBytes: 1 });
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set<string>();
    for (const g of rule().spec.groups)
      for (const r of g.rules) for (const m of String(r.expr).matchAll(/\b(driftguard_[a-z_]+?)(_bucket|_count|_sum)?\b/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThanOrEqual(6);
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
  });
});
