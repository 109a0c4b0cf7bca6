/**
 * The scripted day: two replicas over real HTTPS, every write sent to the
 * entry observer, the exit observer and the validating endpoint as the API server would (each call
 * with its own uid, the calls spread over both replicas), then `explain` and `history` over the
 * two records files, asserted field by field.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionResponse, KubeObject } from '../../src/k8s/admission.js';
import { cli as runCli } from '../support/cli.js';
import { fixturePath, readJson, REPO } from '../support/fixtures.js';
import { argocdController, hpa, jane } from '../support/identities.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { StoredObject, type Stages } from '../support/stages.js';

const ARGO = 'system:serviceaccount:argocd:argocd-application-controller';
const JANE = 'oidc:jane@example.com';
const HPA = 'system:serviceaccount:kube-system:horizontal-pod-autoscaler';
// Fields as explain and history name them: items of keyed lists by key (docs/keyed-paths.md).
const CONTAINER0 = '/spec/template/spec/containers[name=checkout]';
const LOG_LEVEL = `${CONTAINER0}/env[name=LOG_LEVEL]/value`;
const IMAGE = `${CONTAINER0}/image`;
// The same fields as JSON Pointers, by index, as records also hold them.
const LOG_LEVEL_PTR = '/spec/template/spec/containers/0/env/0/value';
const INJECT = '/spec/template/metadata/annotations/sidecar.example.com~1inject';
const SIDECAR_STATUS = '/spec/template/metadata/annotations/sidecar.example.com~1status';
const SIDECAR = '/spec/template/spec/containers[name=mesh-proxy]';
const PORT = 'ports[containerPort=15001,protocol=TCP]';

let clock = new Date('2026-11-24T09:00:00Z');
const at = (hms: string) => {
  clock = new Date(`2026-11-24T${hms}Z`);
};
const tick = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

let a: TestServer;
let b: TestServer;
const obj = new StoredObject(() => clock);
const manifest = readJson<KubeObject>('ledger', 'checkout-manifest.json');
const sidecar = readJson<{ annotation: Record<string, string>; container: object }>('ledger', 'sidecar.json');
const responses: Record<string, AdmissionResponse> = {};
let recordsAfterCreate = 0;
let recordsAfterDryRun = 0;

/** Send one write through entry -> exit -> validate on the given replicas; commit it when admitted. */
async function send(name: string, s: Stages, route: [TestServer, TestServer, TestServer]): Promise<AdmissionResponse> {
  const calls: Array<[TestServer, unknown, string]> = [
    [route[0], s.entry, '/observe/entry'],
    [route[1], s.exit, '/observe/exit'],
    [route[2], s.final, '/validate'],
  ];
  let last: AdmissionResponse | undefined;
  for (const [server, review, routePath] of calls) {
    const res = await server.review(review, routePath);
    expect(res.status).toBe(200);
    const response = res.json.response as AdmissionResponse;
    expect(response.uid).toBe((review as { request: { uid: string } }).request.uid);
    if (routePath !== '/validate') {
      // An observer always allows and never patches.
      expect(response.allowed).toBe(true);
      expect(response.patch).toBeUndefined();
      expect(response.patchType).toBeUndefined();
    }
    last = response;
    tick(40);
  }
  responses[name] = last!;
  if (last!.allowed && s.final.request.dryRun !== true) obj.commit(s);
  return last!;
}

function allRecords(): any[] {
  return [...a.records(), ...b.records()];
}

const files = () => [a.recordsFile, b.recordsFile];

beforeAll(async () => {
  const policies = [fixturePath('ledger', 'policies')];
  a = await startTestServer({ policies, now: () => clock });
  b = await startTestServer({ policies, now: () => clock });

  at('09:00:00');
  await send(
    'create',
    obj.write({ operation: 'CREATE', userInfo: argocdController(), fieldManager: 'argocd-controller', sent: manifest }),
    [a, b, a],
  );
  recordsAfterCreate = allRecords().length;

  // Argo CD's server-side diff: a dry-run UPDATE through all three points, which must leave nothing.
  at('09:10:00');
  const diffRun = obj.write({
    operation: 'UPDATE',
    userInfo: argocdController(),
    fieldManager: 'argocd-controller',
    dryRun: true,
    sent: obj.edited((o) => (o.spec.template.spec.containers[0].image = 'registry.example.com/shop/checkout:1.43.0')),
  });
  await send('diff', diffRun, [a, b, b]);
  recordsAfterDryRun = allRecords().length;

  at('09:10:05');
  await send(
    'image',
    obj.write({
      operation: 'UPDATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      sent: obj.edited((o) => (o.spec.template.spec.containers[0].image = 'registry.example.com/shop/checkout:1.43.0')),
    }),
    [b, a, b],
  );

  at('09:30:00');
  await send(
    'hpa',
    obj.write({ operation: 'UPDATE', subResource: 'scale', userInfo: hpa(), sent: obj.edited((o) => (o.spec.replicas = 5)) }),
    [a, a, b],
  );

  // kubectl scale sends no field manager; canary-replicas-audit audits it.
  at('10:00:00');
  await send(
    'scale',
    obj.write({ operation: 'UPDATE', subResource: 'scale', userInfo: jane(), sent: obj.edited((o) => (o.spec.replicas = 8)) }),
    [b, b, a],
  );

  // A Git change asks for the sidecar; the injector adds it between entry and exit.
  at('10:30:00');
  await send(
    'sidecar',
    obj.write({
      operation: 'UPDATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      sent: obj.edited((o) => (o.spec.template.metadata.annotations['sidecar.example.com/inject'] = 'true')),
      mutate: (o) => {
        Object.assign(o.spec.template.metadata.annotations, sidecar.annotation);
        o.spec.template.spec.containers.push(structuredClone(sidecar.container));
      },
    }),
    [a, b, a],
  );

  at('11:00:00');
  await send(
    'env',
    obj.write({
      operation: 'UPDATE',
      userInfo: jane(),
      fieldManager: 'kubectl-edit',
      sent: obj.edited((o) => (o.spec.template.spec.containers[0].env[0].value = 'debug')),
    }),
    [b, a, b],
  );

  // Argo CD self-heal puts Git's value back.
  at('11:20:00');
  await send(
    'revert',
    obj.write({
      operation: 'UPDATE',
      userInfo: argocdController(),
      fieldManager: 'argocd-controller',
      sent: obj.edited((o) => (o.spec.template.spec.containers[0].env[0].value = 'info')),
    }),
    [a, b, a],
  );

  at('11:40:00');
  await send('delete', obj.write({ operation: 'DELETE', userInfo: jane() }), [b, a, b]);

  // Shutting down flushes every record (as SIGTERM would).
  await a.close();
  await b.close();
  // The recorded day the README's and docs/explain.md's explain and history examples run on (examples/recorded-day/) is
  // this day's records: DRIFTGUARD_WRITE_SAMPLE_DAY=1 npx vitest run test/ledger/scripted-day.test.ts
  if (process.env.DRIFTGUARD_WRITE_SAMPLE_DAY === '1') {
    const out = path.join(REPO, 'examples', 'recorded-day');
    mkdirSync(out, { recursive: true });
    copyFileSync(a.recordsFile, path.join(out, 'driftguard-a.jsonl'));
    copyFileSync(b.recordsFile, path.join(out, 'driftguard-b.jsonl'));
  }
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** A replica's records in time order (every call of the day has its own time). */
function recordsOf(file: string): any[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
    .sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
}

describe('the scripted day, as the webhooks saw it', () => {
  it('answers every write as the policies say', () => {
    expect(responses.create!.allowed).toBe(true);
    expect(responses.diff!.allowed).toBe(true);
    expect(responses.hpa!.allowed).toBe(true);
    expect(responses.scale!.allowed).toBe(true);
    expect(responses.scale!.warnings).toBeUndefined();
    expect(responses.env!.allowed).toBe(true);
    expect(responses.env!.warnings?.[0]).toMatch(/canary-template-warn/);
    expect(responses.delete!.allowed).toBe(false);
    expect(responses.delete!.status?.code).toBe(403);
  });

  it('the dry run left no record at any of the three points', () => {
    expect(recordsAfterCreate).toBe(3);
    expect(recordsAfterDryRun).toBe(recordsAfterCreate);
  });

  it('splits the records over both replicas, each stage where its call landed', () => {
    const ra = recordsOf(a.recordsFile);
    const rb = recordsOf(b.recordsFile);
    const stages = (rs: any[]) => rs.filter((r) => r.type === 'change').map((r) => `${r.stage}:${r.time.slice(11, 16)}`);
    expect(stages(ra)).toEqual([
      'entry:09:00',
      'final:09:00',
      'exit:09:10',
      'entry:09:30',
      'exit:09:30',
      'final:10:00',
      'entry:10:30',
      'final:10:30',
      'exit:11:00',
      'entry:11:20',
      'final:11:20',
      'exit:11:40',
    ]);
    expect(stages(rb)).toEqual([
      'exit:09:00',
      'entry:09:10',
      'final:09:10',
      'final:09:30',
      'entry:10:00',
      'exit:10:00',
      'exit:10:30',
      'entry:11:00',
      'final:11:00',
      'exit:11:20',
      'entry:11:40',
    ]);
    // Violation records come from the validating calls: audited scale (a), warned edit (b), denied delete (b).
    expect(ra.filter((r) => r.type === 'violation').map((r) => `${r.policy}:${r.decision}`)).toEqual(['canary-replicas-audit:audited']);
    expect(rb.filter((r) => r.type === 'violation').map((r) => `${r.policy}:${r.decision}`)).toEqual([
      'canary-template-warn:warned',
      'canary-no-delete:denied',
    ]);
  });

  it('writes change records with actor, class, manager, correlation and redacted, leaf-level changes', () => {
    const finals = [...recordsOf(a.recordsFile), ...recordsOf(b.recordsFile)].filter((r) => r.type === 'change' && r.stage === 'final');
    const create = finals.find((r) => r.operation === 'CREATE');
    expect(create.actor.username).toBe(ARGO);
    expect(create.actorClass).toBe('gitops');
    expect(create.fieldManager).toBe('argocd-controller');
    expect(create.owner).toEqual({ tool: 'argocd', application: 'shop-canary', source: 'tracking-id' });
    expect(create.resource).toMatchObject({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'shop-canary',
      name: 'checkout',
    });
    expect(create.changes).toContainEqual({ path: '/spec/replicas', op: 'add', new: 3 });
    expect(create.changes).toContainEqual({ path: LOG_LEVEL_PTR, keyed: LOG_LEVEL, op: 'add', new: 'info' });
    // Bookkeeping the API server owns is not a change.
    expect(create.changes.map((c: any) => c.path)).not.toContain('/metadata/uid');
    const scale = finals.find((r) => r.actor.username === JANE && r.resource.subResource === 'scale');
    expect(scale.fieldManager).toBeUndefined();
    expect(scale.actorClass).toBe('person');
    expect(scale.changes).toEqual([{ path: '/spec/replicas', op: 'replace', old: 5, new: 8 }]);
    expect(scale.correlation).toBe(`UPDATE apps/deployments/scale shop-canary/checkout ${scale.oldResourceVersion} ${JANE}`);
    // The object's uid: the validating webhook sees it from the CREATE on; a Scale carries its parent's.
    expect(create.objectUid).toMatch(/^[0-9a-f-]{36}$/);
    expect(scale.objectUid).toBe(create.objectUid);
    const hpaWrite = finals.find((r) => r.actor.username === HPA);
    expect(hpaWrite.actorClass).toBe('controller');
  });
});

describe('explain over both replicas', () => {
  let fields: Map<string, any>;
  let table: string;

  beforeAll(async () => {
    const json = await runCli(['explain', 'deploy/checkout', '-n', 'shop-canary', ...files(), '-o', 'json']);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    // The denied DELETE did not happen: the object is still there.
    expect(parsed.deleted).toBeUndefined();
    fields = new Map(parsed.fields.map((f: any) => [f.path, f]));
    const t = await runCli(['explain', 'deployment/checkout', '-n', 'shop-canary', ...files()]);
    expect(t.code).toBe(0);
    table = t.stdout;
  });

  it('lists exactly the fields changed after Argo CD created the object', () => {
    expect([...fields.keys()]).toEqual([
      '/spec/replicas',
      INJECT,
      SIDECAR_STATUS,
      LOG_LEVEL,
      IMAGE,
      `${SIDECAR}/image`,
      `${SIDECAR}/name`,
      `${SIDECAR}/${PORT}/containerPort`,
      `${SIDECAR}/${PORT}/name`,
      `${SIDECAR}/${PORT}/protocol`,
    ]);
  });

  it('replicas: set last by a person after the HPA, DRIFT against the 3 Argo CD set', () => {
    const f = fields.get('/spec/replicas');
    expect(f.value).toBe(8);
    expect(f.lastWriter).toMatchObject({ username: JANE, actorClass: 'person', time: '2026-11-24T10:00:00.080Z', operation: 'UPDATE' });
    expect(f.lastWriter.fieldManager).toBeUndefined();
    expect(f.gitops).toMatchObject({ value: 3, username: ARGO, time: '2026-11-24T09:00:00.080Z', fieldManager: 'argocd-controller' });
    expect(f.drift).toBe(true);
    expect(f.setByWebhook).toBe(false);
    expect(f.reverted).toBeUndefined();
    expect(f.writes).toBe(3);
  });

  it('image: Argo CD updated it, GitOps value and live value agree, no drift', () => {
    const f = fields.get(IMAGE);
    expect(f.value).toBe('registry.example.com/shop/checkout:1.43.0');
    expect(f.lastWriter).toMatchObject({ username: ARGO, actorClass: 'gitops', fieldManager: 'argocd-controller' });
    expect(f.gitops.value).toBe('registry.example.com/shop/checkout:1.43.0');
    expect(f.drift).toBe(false);
  });

  it('sidecar: the container and its status annotation are attributed to a mutating webhook, the inject annotation to Argo CD', () => {
    for (const p of [`${SIDECAR}/name`, `${SIDECAR}/image`, `${SIDECAR}/${PORT}/containerPort`, SIDECAR_STATUS]) {
      const f = fields.get(p);
      expect(f.setByWebhook, p).toBe(true);
      expect(f.drift, p).toBe(false);
      // The writer is the webhook (unknown offline), the request's actor is beside it as requestedBy:
      // nothing under lastWriter names Argo CD as the writer.
      expect(f.lastWriter, p).toEqual({
        kind: 'webhook',
        actorClass: 'webhook',
        time: '2026-11-24T10:30:00.080Z',
        operation: 'UPDATE',
        requestedBy: { username: ARGO, actorClass: 'gitops', fieldManager: 'argocd-controller' },
      });
      expect(f.gitops, p).toBeUndefined();
    }
    expect(fields.get(`${SIDECAR}/name`).value).toBe('mesh-proxy');
    const inject = fields.get(INJECT);
    expect(inject).toMatchObject({ value: 'true', setByWebhook: false, drift: false });
    expect(inject.lastWriter).toMatchObject({ username: ARGO, actorClass: 'gitops' });
  });

  it("env var: the person's edit was reverted by Argo CD after 20 minutes", () => {
    const f = fields.get(LOG_LEVEL);
    expect(f.value).toBe('info');
    expect(f.lastWriter).toMatchObject({
      username: ARGO,
      actorClass: 'gitops',
      fieldManager: 'argocd-controller',
      time: '2026-11-24T11:20:00.080Z',
    });
    expect(f.drift).toBe(false);
    expect(f.reverted).toEqual({
      by: ARGO,
      at: '2026-11-24T11:20:00.080Z',
      afterSeconds: 1200,
      driftBy: JANE,
      driftAt: '2026-11-24T11:00:00.080Z',
    });
    expect(f.gitops.value).toBe('info');
  });

  it('prints an aligned table, like kubectl', () => {
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^FIELD\s+VALUE\s+LAST WRITER\s+CLASS\s+MANAGER\s+WHEN\s+GITOPS VALUE\s+NOTE$/);
    expect(lines).toHaveLength(11);
    // Every column starts at the same offset on every line.
    const header = lines[0]!;
    for (const col of ['VALUE', 'LAST WRITER', 'CLASS', 'MANAGER', 'WHEN', 'GITOPS VALUE']) {
      const at = header.indexOf(col);
      for (const line of lines.slice(1)) expect(line.slice(at - 3, at), `${col} in ${line}`).toBe('   ');
    }
    const row = (p: string) => lines.find((l) => l.startsWith(`${p} `))!.split(/\s{3,}/);
    expect(row('/spec/replicas')).toEqual(['/spec/replicas', '8', JANE, 'person', '<none>', '2026-11-24T10:00:00Z', '3', 'DRIFT']);
    expect(row(`${SIDECAR}/name`)).toEqual([
      `${SIDECAR}/name`,
      'mesh-proxy',
      'mutating webhook (unknown)',
      'webhook',
      'argocd-controller',
      '2026-11-24T10:30:00Z',
      '<none>',
      `WEBHOOK (requested by ${ARGO})`,
    ]);
    expect(row(LOG_LEVEL)).toEqual([
      LOG_LEVEL,
      'info',
      ARGO,
      'gitops',
      'argocd-controller',
      '2026-11-24T11:20:00Z',
      'info',
      `reverted by ${ARGO} after 20m`,
    ]);
    // Long values lose their middle, so the image keeps its tag.
    expect(row(IMAGE)).toEqual([
      IMAGE,
      'registry.example.com…hop/checkout:1.43.0',
      ARGO,
      'gitops',
      'argocd-controller',
      '2026-11-24T09:10:05Z',
      'registry.example.com…hop/checkout:1.43.0',
    ]);
  });

  it('--since, --until and --field narrow the window and the fields', async () => {
    const since = await runCli([
      'explain',
      'deployments/checkout',
      '-n',
      'shop-canary',
      ...files(),
      '--since',
      '2026-11-24T10:45:00Z',
      '-o',
      'json',
    ]);
    expect(JSON.parse(since.stdout).fields.map((f: any) => f.path)).toEqual([LOG_LEVEL]);
    // A duration counts back from now (the CLI clock).
    const ago = await runCli(['explain', 'Deployment/checkout', '-n', 'shop-canary', ...files(), '--since', '1h10m', '-o', 'json'], {
      now: new Date('2026-11-24T11:50:00Z'),
    });
    expect(JSON.parse(ago.stdout).fields.map((f: any) => f.path)).toEqual([LOG_LEVEL]);
    const until = await runCli([
      'explain',
      'deploy/checkout',
      '-n',
      'shop-canary',
      ...files(),
      '--until',
      '2026-11-24T11:10:00Z',
      '--field',
      CONTAINER0,
      '-o',
      'json',
    ]);
    const env = JSON.parse(until.stdout).fields;
    expect(env.map((f: any) => f.path)).toEqual([LOG_LEVEL, IMAGE]);
    expect(env[0]).toMatchObject({
      value: 'debug',
      drift: true,
      lastWriter: { username: JANE, actorClass: 'person', fieldManager: 'kubectl-edit' },
    });
  });

  it('--all adds the fields Argo CD set only when it created the object', async () => {
    const all = await runCli(['explain', 'deploy/checkout', '-n', 'shop-canary', ...files(), '--all', '-o', 'json']);
    const byPath = new Map(JSON.parse(all.stdout).fields.map((f: any) => [f.path, f]));
    expect(byPath.get('/spec/strategy/type')).toMatchObject({
      value: 'RollingUpdate',
      drift: false,
      lastWriter: { username: ARGO, actorClass: 'gitops', operation: 'CREATE' },
    });
    expect(byPath.size).toBeGreaterThan(30);
  });

  it('reads the records piped in, as from kubectl logs, with operational log lines interleaved', () => {
    const logLine = JSON.stringify({ level: 30, time: '2026-11-24T09:00:00.000Z', name: 'driftguard', msg: 'driftguard serving' });
    const stdin = [
      logLine,
      ...readFileSync(a.recordsFile, 'utf8').trim().split('\n'),
      logLine,
      ...readFileSync(b.recordsFile, 'utf8').trim().split('\n'),
    ].join('\n');
    const out = execFileSync(
      process.execPath,
      [path.join(REPO, 'dist/cli.js'), 'explain', 'deploy/checkout', '-n', 'shop-canary', '-o', 'json'],
      { input: stdin, encoding: 'utf8' },
    );
    const parsed = JSON.parse(out);
    expect(parsed.fields.find((f: any) => f.path === '/spec/replicas')).toMatchObject({ value: 8, drift: true });
    expect(parsed.stats).toMatchObject({ files: ['-'], writes: 7, denied: 1, observed: 7 });
  });
});

describe('history over both replicas', () => {
  it('lists each admitted write and the denied attempt, newest first, like git log -p', async () => {
    const res = await runCli(['history', 'deploy/checkout', '-n', 'shop-canary', ...files(), '-o', 'json']);
    expect(res.code).toBe(0);
    const { entries } = JSON.parse(res.stdout);
    expect(
      entries.map((e: any) => `${e.kind} ${e.operation}${e.resource.subResource ? `/${e.resource.subResource}` : ''} ${e.actor.username}`),
    ).toEqual([
      `denied DELETE ${JANE}`,
      `write UPDATE ${ARGO}`,
      `write UPDATE ${JANE}`,
      `write UPDATE ${ARGO}`,
      `write UPDATE/scale ${JANE}`,
      `write UPDATE/scale ${HPA}`,
      `write UPDATE ${ARGO}`,
      `write CREATE ${ARGO}`,
    ]);
    const [denied, revert, edit, inject, scale] = entries;
    expect(denied.policies).toEqual([
      { policy: 'canary-no-delete', decision: 'denied', mode: 'enforce', reason: expect.stringContaining('not allow') },
    ]);
    expect(denied.changes[0]).toMatchObject({ path: '', op: 'remove' });
    expect(revert.changes).toEqual([{ path: LOG_LEVEL_PTR, keyed: LOG_LEVEL, op: 'replace', old: 'debug', new: 'info', by: 'requester' }]);
    expect(edit.policies.map((p: any) => `${p.policy} ${p.decision}`)).toEqual(['canary-template-warn warned']);
    expect(edit.fieldManager).toBe('kubectl-edit');
    expect(inject.changes.filter((c: any) => c.by === 'webhook').map((c: any) => c.keyed ?? c.path)).toEqual([
      SIDECAR_STATUS,
      `${SIDECAR}/name`,
      `${SIDECAR}/image`,
      `${SIDECAR}/${PORT}/name`,
      `${SIDECAR}/${PORT}/containerPort`,
      `${SIDECAR}/${PORT}/protocol`,
    ]);
    expect(inject.changes.filter((c: any) => c.by === 'requester').map((c: any) => c.path)).toEqual([INJECT]);
    expect(scale.policies.map((p: any) => `${p.policy} ${p.decision}`)).toEqual(['canary-replicas-audit audited']);
    for (const e of entries.slice(1)) expect(e.stages).toEqual(['entry', 'exit', 'final']);
  });

  it('prints the text form with a diff per write', async () => {
    const res = await runCli(['history', 'deploy/checkout', '-n', 'shop-canary', ...files(), '--field', LOG_LEVEL]);
    expect(res.code).toBe(0);
    const blocks = res.stdout.trimEnd().split('\n\n');
    expect(blocks[0]).toBe(
      [
        'DENIED  2026-11-24T11:40:00Z  DELETE deployments.apps/checkout',
        `Actor:     ${JANE} (person)`,
        'Manager:   <none>',
        'Policy:    canary-no-delete (enforce) denied: 1 change(s) by an actor the policy does not allow',
      ].join('\n'),
    );
    expect(blocks[1]).toBe('    - (whole object)');
    expect(blocks[2]).toBe(
      [
        'write   2026-11-24T11:20:00Z  UPDATE deployments.apps/checkout',
        `Actor:     ${ARGO} (gitops)`,
        'Manager:   argocd-controller',
        'Seen at:   entry, exit, final',
      ].join('\n'),
    );
    expect(res.stdout).toContain(`    ~ ${LOG_LEVEL}: "debug" -> "info"`);
    expect(res.stdout).toContain(`    ~ ${LOG_LEVEL}: "info" -> "debug"`);
    expect(res.stdout).toContain(`    + ${LOG_LEVEL}: "info"`);
    expect(res.stdout).toContain('    - (whole object)');
  });
});
