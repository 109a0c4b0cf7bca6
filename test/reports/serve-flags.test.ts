import { describe, expect, it } from 'vitest';
import { serveConfig } from '../../src/cli/serve.js';

const base = {
  port: '8443',
  host: '127.0.0.1',
  policies: ['policies'],
  certDir: 'certs',
  records: '-',
  logLevel: 'info',
  service: 'driftguard',
  namespace: 'driftguard-system',
  shutdownGrace: '1000',
  captureMaxFiles: '10000',
  recordsMaxBytes: '100Mi',
  recordsMaxFiles: '5',
};

describe('serve --reports', () => {
  it('off unless asked, and off when asked', () => {
    expect(serveConfig(base).reports).toBeUndefined();
    expect(serveConfig({ ...base, kubeconfig: 'kc', reports: 'off' }).reports).toBeUndefined();
  });

  it('openreports or wgpolicy, with the Lease in serve --namespace', () => {
    expect(serveConfig({ ...base, kubeconfig: 'kc', reports: 'openreports' }).reports).toEqual({
      format: 'openreports',
      leaseNamespace: 'driftguard-system',
      maxReports: 5000,
      limits: { maxResults: 50, deniedAttempts: 5 },
      writesPerSecond: 10,
    });
    expect(serveConfig({ ...base, inCluster: true, reports: 'wgpolicy' }).reports).toMatchObject({ format: 'wgpolicy' });
  });

  it('the bounds and the write pace from their flags', () => {
    const flags = {
      ...base,
      kubeconfig: 'kc',
      reports: 'wgpolicy',
      reportsMax: '200',
      reportsMaxResults: '3',
      reportsWritesPerSecond: '25',
    };
    expect(serveConfig(flags).reports).toMatchObject({
      maxReports: 200,
      limits: { maxResults: 3, deniedAttempts: 5 },
      writesPerSecond: 25,
    });
    expect(() => serveConfig({ ...flags, reportsMax: '0' })).toThrow('--reports-max');
    expect(() => serveConfig({ ...flags, reportsWritesPerSecond: 'fast' })).toThrow('--reports-writes-per-second');
  });

  it('needs a cluster and one of the formats', () => {
    expect(() => serveConfig({ ...base, reports: 'openreports' })).toThrow('--reports needs --kubeconfig FILE or --in-cluster');
    expect(() => serveConfig({ ...base, kubeconfig: 'kc', reports: 'policyreport' })).toThrow(
      '--reports must be openreports, wgpolicy or off, got policyreport',
    );
  });
});
