/**
 * `driftguard manifests --url https://HOST:PORT` (src/install/webhook-url.ts): every webhook calls
 * the URL with its own path and names no Service; everything else is what the command prints
 * without it. What the real API server makes of it is in test/e2e/install.test.ts (the e2e setup
 * registers driftguard this way).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli } from '../support/cli.js';
import { REPO } from '../support/fixtures.js';

type Obj = Record<string, any>;

const objects = (yaml: string): Obj[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);

describe('driftguard manifests --url', () => {
  it('writes clientConfig.url with each webhook’s path, no service, and leaves the rest as without it', async () => {
    const byService = await cli(['manifests', '--policies', 'policies'], { cwd: REPO });
    const byUrl = await cli(['manifests', '--policies', 'policies', '--url', 'https://127.0.0.1:8443'], { cwd: REPO });
    expect(byUrl.code, byUrl.stderr).toBe(0);
    const got = objects(byUrl.stdout);
    expect(got.flatMap((o) => o.webhooks.map((w: Obj) => [o.metadata.name, w.clientConfig]))).toEqual([
      ['driftguard', { url: 'https://127.0.0.1:8443/validate' }],
      ['0-driftguard-observe-entry', { url: 'https://127.0.0.1:8443/observe/entry' }],
    ]);
    const withoutClientConfig = (list: Obj[]) =>
      list.map((o) => ({ ...o, webhooks: o.webhooks.map(({ clientConfig: _, ...w }: Obj) => w) }));
    expect(withoutClientConfig(got)).toEqual(withoutClientConfig(objects(byService.stdout)));
  });

  it('keeps the caBundle from --ca beside the url, and takes a host name, an IPv6 address and a trailing slash', async () => {
    const certs = path.join(mkdtempSync(path.join(tmpdir(), 'driftguard-manifests-url-')), 'certs');
    const made = await cli(['certs', '--out', certs, '--san', '::1'], { now: new Date() });
    expect(made.code, made.stderr).toBe(0);
    const out = await cli(['manifests', '--ca', path.join(certs, 'ca.crt'), '--url', 'https://[::1]:9443/'], { cwd: REPO });
    expect(out.code, out.stderr).toBe(0);
    const validating = objects(out.stdout)[0]!.webhooks[0].clientConfig;
    expect(validating.url).toBe('https://[::1]:9443/validate');
    expect(typeof validating.caBundle).toBe('string');
    expect(Object.keys(validating).sort()).toEqual(['caBundle', 'url']);
    const named = await cli(['manifests', '--url', 'https://driftguard.example.com'], { cwd: REPO });
    expect(objects(named.stdout)[0]!.webhooks[0].clientConfig).toEqual({ url: 'https://driftguard.example.com/validate' });
  });

  it.each([
    ['http://127.0.0.1:8443', 'its scheme is http; the API server calls webhooks over https only'],
    ['https://user:pw@127.0.0.1:8443', 'user name or password'],
    ['https://127.0.0.1:8443/?x=1', 'query'],
    ['https://127.0.0.1:8443/#top', 'fragment'],
    ['https://127.0.0.1:8443/validate', 'it has a path (/validate)'],
    ['localhost:8443', '"localhost:8443" is not a URL: give https://HOST:PORT'],
    ['not a url', 'is not a URL: give https://HOST:PORT'],
  ])('refuses %s with a clear error and prints nothing', async (url, message) => {
    const out = await cli(['manifests', '--url', url], { cwd: REPO });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('DG_USAGE');
    expect(out.stderr).toContain(message);
  });

  it('refuses --url with --service: the two are different ways to reach driftguard', async () => {
    const out = await cli(['manifests', '--url', 'https://127.0.0.1:8443', '--service', 'other'], { cwd: REPO });
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/--url.*cannot be used with.*--service/);
  });
});
