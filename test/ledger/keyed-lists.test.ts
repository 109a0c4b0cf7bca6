/**
 * Attribution that survives list edits, through the real HTTPS handler, the observers, the records
 * on disk and the CLI: list items are identified by their Kubernetes keys (containers and env by
 * name), so an item inserted first, a reordered list or a renamed container changes what it changes
 * and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionResponse, KubeObject } from '../../src/k8s/admission.js';
import { cli as runCli } from '../support/cli.js';
import { fixturePath, readJson } from '../support/fixtures.js';
import { argocdController, hpa, jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { StoredObject, type Stages } from '../support/stages.js';
import { user } from '../../src/admission/build.js';

const ARGO = 'system:serviceaccount:argocd:argocd-application-controller';
const JANE = 'oidc:jane@example.com';
const APP = '/spec/template/spec/containers[name=checkout]';
const SIDECAR = '/spec/template/spec/containers[name=mesh-proxy]';
const env = (name: string) => `${APP}/env[name=${name}]`;

const manifest = readJson<KubeObject>('ledger', 'checkout-manifest.json');
const sidecar = readJson<{ annotation: Record<string, string>; container: object }>('ledger', 'sidecar.json');
const imageUpdater = () =>
  user('system:serviceaccount:argocd:argocd-image-updater', [
    'system:serviceaccounts',
    'system:serviceaccounts:argocd',
    'system:authenticated',
  ]);

/** One object's day on one replica: each write through entry -> exit -> validate, committed when admitted. */
class Day {
  clock = new Date('2026-11-24T09:00:00Z');
  readonly obj = new StoredObject(() => this.clock);
  constructor(readonly server: TestServer) {}

  at(hms: string): void {
    this.clock = new Date(`2026-11-24T${hms}Z`);
  }

  async send(s: Stages): Promise<AdmissionResponse> {
    let last: AdmissionResponse | undefined;
    for (const [review, route] of [
      [s.entry, '/observe/entry'],
      [s.exit, '/observe/exit'],
      [s.final, '/validate'],
    ] as const) {
      const res = await this.server.review(review, route);
      expect(res.status).toBe(200);
      last = res.json.response as AdmissionResponse;
      this.clock = new Date(this.clock.getTime() + 40);
    }
    if (last!.allowed) this.obj.commit(s);
    return last!;
  }

  create(): Promise<AdmissionResponse> {
    return this.send(
      this.obj.write({ operation: 'CREATE', userInfo: argocdController(), fieldManager: 'argocd-controller', sent: manifest }),
    );
  }

  async explain(...args: string[]): Promise<Map<string, any>> {
    this.server.records(); // flushes the records file
    const res = await runCli(['explain', 'deploy/checkout', '-n', 'shop-canary', this.server.recordsFile, '-o', 'json', ...args]);
    expect(res.stderr).toBe('');
    return new Map(JSON.parse(res.stdout).fields.map((f: any) => [f.path, f]));
  }
}

const servers: TestServer[] = [];
async function day(policies = fixturePath('ledger', 'policies')): Promise<Day> {
  // The server reads the day's clock, which exists once the server does.
  const ref: { day?: Day } = {};
  const server = await startTestServer({ policies: [policies], now: () => ref.day?.clock ?? new Date('2026-11-24T09:00:00Z') });
  servers.push(server);
  ref.day = new Day(server);
  return ref.day;
}
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('a person inserts an env var first, then a webhook inserts a sidecar first during the next sync', () => {
  let d: Day;
  let fields: Map<string, any>;
  let all: Map<string, any>;

  beforeAll(async () => {
    d = await day();
    await d.create();
    d.at('10:00:00');
    // kubectl edit / kubectl set env: a new first env var; every other var moves down one index.
    const edit = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: jane(),
        fieldManager: 'kubectl-edit',
        sent: d.obj.edited((o) => o.spec.template.spec.containers[0].env.unshift({ name: 'FEATURE_X', value: 'on' })),
      }),
    );
    expect(edit.allowed).toBe(true); // canary-template-warn warns
    d.at('10:30:00');
    // Argo CD's sync asks for the sidecar; the injector puts it first (as linkerd-proxy goes first).
    const sync = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        sent: d.obj.edited((o) => (o.spec.template.metadata.annotations['sidecar.example.com/inject'] = 'true')),
        mutate: (o) => {
          Object.assign(o.spec.template.metadata.annotations, sidecar.annotation);
          o.spec.template.spec.containers.unshift(structuredClone(sidecar.container));
        },
      }),
    );
    expect(sync.allowed).toBe(true);
    fields = await d.explain();
    all = await d.explain('--all');
  });

  it('records each change once, by key as well as by index at that write', () => {
    const finals = d.server.records().filter((r) => r.type === 'change' && r.stage === 'final');
    const edit = finals.find((r) => r.actor.username === JANE);
    expect(edit.changes).toEqual([
      { path: '/spec/template/spec/containers/0/env/0/name', keyed: `${env('FEATURE_X')}/name`, op: 'add', new: 'FEATURE_X' },
      { path: '/spec/template/spec/containers/0/env/0/value', keyed: `${env('FEATURE_X')}/value`, op: 'add', new: 'on' },
    ]);
    const sync = finals.at(-1);
    expect(sync.schema).toBe('driftguard.io/v2');
    // The app container moved to index 1 and is not a change; the sidecar at index 0 is.
    expect(sync.changes.map((c: any) => c.path).filter((p: string) => p.includes('/containers/1/'))).toEqual([]);
    expect(sync.changes).toContainEqual({
      path: '/spec/template/spec/containers/0/name',
      keyed: `${SIDECAR}/name`,
      op: 'add',
      new: 'mesh-proxy',
    });
  });

  it('explain names the person for that var only, and calls it DRIFT', () => {
    const f = fields.get(`${env('FEATURE_X')}/value`);
    expect(f).toMatchObject({ value: 'on', drift: true, setByWebhook: false, lastWriter: { username: JANE, actorClass: 'person' } });
    expect(f.pointer).toBe('/spec/template/spec/containers/0/env/0/value'); // where it was at her write
    const byJane = [...fields.values()].filter((x) => x.lastWriter.username === JANE).map((x) => x.path);
    expect(byJane).toEqual([`${env('FEATURE_X')}/name`, `${env('FEATURE_X')}/value`]);
  });

  it('every other env var keeps its GitOps writer and is not DRIFT', () => {
    for (const name of ['LOG_LEVEL', 'PAYMENT_TIMEOUT_MS']) {
      for (const leaf of ['name', 'value']) {
        const f = all.get(`${env(name)}/${leaf}`);
        expect(f, `${name}/${leaf}`).toMatchObject({
          drift: false,
          setByWebhook: false,
          lastWriter: { username: ARGO, actorClass: 'gitops' },
        });
        expect(fields.has(`${env(name)}/${leaf}`)).toBe(false); // set only when GitOps created it
      }
    }
    expect(all.get(`${env('LOG_LEVEL')}/value`).value).toBe('info');
  });

  it('only the sidecar is WEBHOOK; the app container keeps its writer', () => {
    const webhook = [...fields.values()].filter((x) => x.setByWebhook).map((x) => x.path);
    expect(webhook).toEqual([
      '/spec/template/metadata/annotations/sidecar.example.com~1status',
      `${SIDECAR}/image`,
      `${SIDECAR}/name`,
      `${SIDECAR}/ports[containerPort=15001,protocol=TCP]/containerPort`,
      `${SIDECAR}/ports[containerPort=15001,protocol=TCP]/name`,
      `${SIDECAR}/ports[containerPort=15001,protocol=TCP]/protocol`,
    ]);
    const image = all.get(`${APP}/image`);
    expect(image).toMatchObject({ value: 'registry.example.com/shop/checkout:1.42.0', drift: false, setByWebhook: false });
    expect(image.lastWriter).toMatchObject({ username: ARGO, operation: 'CREATE' });
  });

  it('the table, history and --field use the keyed paths', async () => {
    d.server.records(); // flushes the records file
    const table = await runCli([
      'explain',
      'deploy/checkout',
      '-n',
      'shop-canary',
      d.server.recordsFile,
      '--field',
      `${APP}/env[name=FEATURE_X]`,
    ]);
    const lines = table.stdout.trim().split('\n');
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([`${env('FEATURE_X')}/name`, `${env('FEATURE_X')}/value`]);
    expect(lines[2]).toMatch(/ DRIFT$/);
    const history = await runCli(['history', 'deploy/checkout', '-n', 'shop-canary', d.server.recordsFile, '--field', SIDECAR]);
    expect(history.stdout).toContain(`    + ${SIDECAR}/name: "mesh-proxy"   [mutating webhook]`);
    expect(history.stdout).not.toContain('/containers/0/');
    const bad = await runCli(['explain', 'deploy/checkout', '-n', 'shop-canary', d.server.recordsFile, '--field', `${APP}/env[name=a b]`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--field .*must be quoted/);
  });
});

describe('GitOps reorders containers without changing them', () => {
  it('is no change and no drift', async () => {
    const d = await day();
    await d.create();
    d.at('10:00:00');
    const withSidecar = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        sent: d.obj.edited((o) => o.spec.template.spec.containers.push(structuredClone(sidecar.container))),
      }),
    );
    expect(withSidecar.allowed).toBe(true);
    const before = d.server.records().length;
    d.at('11:00:00');
    // The same containers and env vars, in another order.
    const reorder = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        sent: d.obj.edited((o) => {
          o.spec.template.spec.containers.reverse();
          o.spec.template.spec.containers[1].env.reverse();
        }),
      }),
    );
    expect(reorder.allowed).toBe(true);
    const after = d.server.records().slice(before);
    // Only the entry observation (written even when empty); no exit, no final: nothing changed.
    expect(after.map((r) => `${r.type} ${r.stage}`)).toEqual(['change entry']);
    expect(after[0].changes).toEqual([]);
    const fields = await d.explain();
    expect([...fields.values()].filter((f) => f.drift)).toEqual([]);
    expect([...fields.values()].every((f) => f.lastWriter.time.startsWith('2026-11-24T10:00'))).toBe(true);
  });

  it('a person who only reorders is not denied', async () => {
    const d = await day(fixturePath('ledger', 'keyed-exceptions'));
    await d.create();
    d.at('10:00:00');
    const res = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: jane(),
        sent: d.obj.edited((o) => o.spec.template.spec.containers[0].env.reverse()),
      }),
    );
    expect(res.allowed).toBe(true);
    expect(d.server.records().filter((r) => r.type === 'violation')).toEqual([]);
  });
});

describe('a container renamed', () => {
  it('is a removal and an addition, by key', async () => {
    const d = await day();
    await d.create();
    d.at('10:00:00');
    await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        sent: d.obj.edited((o) => (o.spec.template.spec.containers[0].name = 'checkout-v2')),
      }),
    );
    const final = d.server
      .records()
      .filter((r) => r.type === 'change' && r.stage === 'final')
      .at(-1);
    const ops = final.changes.map((c: any) => `${c.op} ${c.keyed}`);
    expect(ops).toContain('add /spec/template/spec/containers[name=checkout-v2]/name');
    expect(ops).toContain('add /spec/template/spec/containers[name=checkout-v2]/image');
    expect(ops).toContain(`remove ${APP}/name`);
    expect(ops).toContain(`remove ${APP}/env[name=LOG_LEVEL]/value`);
    expect(final.changes.every((c: any) => c.op !== 'replace')).toBe(true);
    const fields = await d.explain();
    expect(fields.get(`${APP}/image`)).toMatchObject({ removed: true, lastWriter: { username: ARGO } });
    expect(fields.get('/spec/template/spec/containers[name=checkout-v2]/image')).toMatchObject({
      removed: false,
      value: 'registry.example.com/shop/checkout:1.42.0',
    });
  });
});

describe('exceptions after a sidecar insert', () => {
  async function afterInsert(policies: string): Promise<Day> {
    const d = await day(policies);
    await d.create();
    d.at('10:00:00');
    const sync = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: argocdController(),
        fieldManager: 'argocd-controller',
        sent: d.obj.edited((o) => (o.spec.template.metadata.annotations['sidecar.example.com/inject'] = 'true')),
        mutate: (o) => o.spec.template.spec.containers.unshift(structuredClone(sidecar.container)),
      }),
    );
    expect(sync.allowed).toBe(true);
    return d;
  }
  const setImage = (d: Day, tag: string) =>
    d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: imageUpdater(),
        sent: d.obj.edited((o) => {
          const app = o.spec.template.spec.containers.find((c: any) => c.name === 'checkout');
          app.image = `registry.example.com/shop/checkout:${tag}`;
        }),
      }),
    );

  it('the HPA exception on /spec/replicas and the keyed image exception keep working', async () => {
    const d = await afterInsert(fixturePath('ledger', 'keyed-exceptions'));
    d.at('10:10:00');
    const scaled = await d.send(
      d.obj.write({ operation: 'UPDATE', subResource: 'scale', userInfo: hpa(), sent: d.obj.edited((o) => (o.spec.replicas = 6)) }),
    );
    expect(scaled.allowed).toBe(true);
    d.at('10:20:00');
    expect((await setImage(d, '1.43.0')).allowed).toBe(true);
    // The exception is for the app container only: the same actor may not touch the sidecar.
    d.at('10:30:00');
    const sidecarEdit = await d.send(
      d.obj.write({
        operation: 'UPDATE',
        userInfo: imageUpdater(),
        sent: d.obj.edited((o) => (o.spec.template.spec.containers[0].image = 'registry.example.com/mesh/proxy:9')),
      }),
    );
    expect(sidecarEdit.allowed).toBe(false);
    expect(sidecarEdit.status?.message).toContain(`${SIDECAR}/image`);
    const denied = d.server.records().filter((r) => r.type === 'violation');
    expect(denied.map((r) => r.changes.map((c: any) => c.keyed))).toEqual([[`${SIDECAR}/image`]]);
    // audit shows the field by key and selects by key or by the index it had.
    const fieldsColumn = async (...args: string[]) => {
      const r = await runCli(['audit', d.server.recordsFile, '--view', 'list', '-o', 'csv', ...args]);
      expect(r.code).toBe(0);
      const [header, ...rows] = r.stdout.trim().split('\n');
      const at = header!.split(',').indexOf('fields');
      return rows.map((row) => row.split(',')[at]);
    };
    expect(await fieldsColumn()).toEqual([`${SIDECAR}/image`]);
    expect(await fieldsColumn('--field', SIDECAR)).toEqual([`${SIDECAR}/image`]);
    expect(await fieldsColumn('--field', '/spec/template/spec/containers/0')).toEqual([`${SIDECAR}/image`]);
    expect(await fieldsColumn('--field', APP)).toEqual([]);
  });

  it('an exception by index covers whichever container is first: after the insert it no longer covers the app', async () => {
    const d = await afterInsert(fixturePath('ledger', 'index-exceptions'));
    d.at('10:20:00');
    const res = await setImage(d, '1.43.0');
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toContain(`${APP}/image`);
    const [violation] = d.server.records().filter((r) => r.type === 'violation');
    expect(violation.changes).toEqual([
      expect.objectContaining({
        path: '/spec/template/spec/containers/1/image',
        keyed: `${APP}/image`,
        new: 'registry.example.com/shop/checkout:1.43.0',
      }),
    ]);
  });
});
