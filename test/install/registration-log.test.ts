/**
 * What `serve --kubeconfig` logs about the webhook registration (src/install/registration-sync.ts),
 * read from a real pino logger writing into memory: a configuration not applied yet (404) is one
 * warn-level line with the command that installs it, then an info line once it is found; a real
 * failure (403, a certificate the kubeconfig does not trust) is an error. The API server here is
 * test/support/fake-apiserver.ts, through the same KubeClient serve uses.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/cluster/kube.js';
import { INSTALL_HINT, RegistrationKeeper } from '../../src/install/registration-sync.js';
import { webhookConfigurations } from '../../src/install/webhooks.js';
import { parsePolicyText } from '../../src/policy/parse.js';
import { registrationFor } from '../../src/policy/registration.js';
import type { DriftPolicy } from '../../src/policy/schema.js';
import { json, notFound, startFakeApiServer, type FakeApiServer } from '../support/fake-apiserver.js';
import { memoryLogger } from '../support/memory-log.js';
import { pki } from '../support/pki.js';

const WARN = 40;
const ERROR = 50;
const INFO = 30;

const policy: DriftPolicy = (() => {
  const parsed = parsePolicyText(
    `apiVersion: driftguard.io/v1alpha1
kind: DriftPolicy
metadata: {name: prod}
spec:
  match:
    resources: [{apiGroups: [apps], kinds: [Deployment]}]
    namespaces: ["prod-*"]
  allow: [{preset: argocd}]
`,
    'prod.yaml',
  );
  expect(parsed.diagnostics).toEqual([]);
  return parsed.policies[0]!.policy;
})();

const VALIDATING = webhookConfigurations({ service: 'driftguard', namespace: 'driftguard', registration: registrationFor([policy]) })[0]!;
const VALIDATING_PATH = /^\/apis\/admissionregistration\.k8s\.io\/v1\/validatingwebhookconfigurations\/driftguard$/;

let api: FakeApiServer | undefined;
let keeper: RegistrationKeeper | undefined;
afterEach(async () => {
  keeper?.stop();
  await api?.close();
  api = keeper = undefined;
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

function keeperFor(kubeconfig: string, logger: ReturnType<typeof memoryLogger>['logger']): RegistrationKeeper {
  keeper = new RegistrationKeeper({ client: KubeClient.load(kubeconfig, { timeoutMs: 2_000 }), logger, manage: false, retryMs: 10 });
  return keeper;
}

describe('registration check log levels', () => {
  it('404 until applied: one warn line with the install command, debug while retrying, then info when found', async () => {
    api = await startFakeApiServer();
    let calls = 0;
    api.route('GET', VALIDATING_PATH, (_req, res) => {
      calls++;
      if (calls <= 4) notFound(res, 'validatingwebhookconfigurations.admissionregistration.k8s.io "driftguard"');
      else json(res, 200, VALIDATING);
    });
    const log = memoryLogger('debug');
    const first = await keeperFor(api.kubeconfig, log.logger).sync([policy]);
    expect(first.error).toBeDefined();
    await until(() => log.entries().some((e) => e.msg === 'webhook registration found'));
    const entries = log.entries();
    const warns = entries.filter((e) => e.level === WARN);
    expect(warns).toEqual([
      expect.objectContaining({
        msg: 'not registered yet: driftguard manifests --policies DIR --ca ca.crt | kubectl apply -f -',
        kind: 'ValidatingWebhookConfiguration',
        configuration: 'driftguard',
      }),
    ]);
    expect(INSTALL_HINT).toMatch(/^driftguard manifests .* \| kubectl apply -f -$/);
    expect(entries.filter((e) => e.level >= ERROR)).toEqual([]);
    // The three retries after the first 404 are quiet (debug), the find is info, and no gap is left.
    expect(entries.filter((e) => e.msg === 'webhook registration still not found; trying again later')).toHaveLength(3);
    const found = entries.findIndex((e) => e.msg === 'webhook registration found');
    expect(entries[found]!.level).toBe(INFO);
    expect(entries.slice(found + 1).map((e) => [e.level, e.msg])).toEqual([
      [INFO, 'webhook registration sends everything the policies cover'],
    ]);
    expect(keeper!.gaps()).toEqual([]);
  });

  it('403: an error-level line at every try, never "not registered yet"', async () => {
    api = await startFakeApiServer();
    api.route('GET', VALIDATING_PATH, (_req, res) =>
      json(res, 403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 }),
    );
    const log = memoryLogger('debug');
    const outcome = await keeperFor(api.kubeconfig, log.logger).sync([policy]);
    expect(outcome.error).toContain('answered 403');
    await until(() => log.entries().filter((e) => e.level === ERROR).length >= 2);
    const entries = log.entries();
    expect(
      entries.filter((e) => e.level === ERROR).every((e) => e.msg === 'webhook registration: cannot read or update it; trying again later'),
    ).toBe(true);
    expect(entries.some((e) => String(e.msg).startsWith('not registered yet'))).toBe(false);
  });

  it('a serving certificate the kubeconfig does not trust: an error-level line', async () => {
    api = await startFakeApiServer();
    api.route('GET', VALIDATING_PATH, (_req, res) => json(res, 200, VALIDATING));
    // The same server and token, but another CA in the kubeconfig: the TLS handshake fails.
    const other = await pki();
    const config = (await readFile(api.kubeconfig, 'utf8')).replace(
      /certificate-authority-data: .*/,
      `certificate-authority-data: ${Buffer.from(other.ca.cert).toString('base64')}`,
    );
    const untrusting = `${api.kubeconfig}-other-ca`;
    writeFileSync(untrusting, config);
    const log = memoryLogger('debug');
    const outcome = await keeperFor(untrusting, log.logger).sync([policy]);
    expect(outcome.error).toBeDefined();
    const errors = log.entries().filter((e) => e.level === ERROR);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]!.msg).toBe('webhook registration: cannot read or update it; trying again later');
    expect(log.entries().some((e) => e.level === WARN)).toBe(false);
    expect(api.seen).toEqual([]);
  });
});
