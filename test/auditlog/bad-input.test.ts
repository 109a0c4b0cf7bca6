/**
 * Bad input in audit log files (real files in the test's temp dir), one kind per file: each is
 * reported on stderr as `warning: audit log FILE:LINE: ...` and the events around it are still read.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/k8s/admission.js';
import { auditEvent, jsonLines } from '../support/audit-events.js';
import { cli } from '../support/cli.js';
import { object } from '../support/fixtures.js';
import { argocdController, jane } from '../support/identities.js';

const NOW = new Date('2026-11-24T13:00:00Z');
const t = (s: number): string => new Date(Date.parse('2026-11-24T12:00:00Z') + s * 1000).toISOString().replace('Z', '123Z');

function dir(): string {
  return mkdtempSync(path.join(tmpdir(), 'dg-auditlog-bad-'));
}

function web(rv: number, replicas: number): KubeObject {
  const o = structuredClone(object('deployment-prod-web')) as any;
  o.metadata.resourceVersion = String(rv);
  o.spec.replicas = replicas;
  return o;
}

/** The good events around each bad line: a create and a patch of deploy/web. */
const create = (): Record<string, unknown> =>
  auditEvent({ verb: 'create', user: argocdController(), object: web(1, 3), time: t(0), auditID: 'good-create' });
const patch = (): Record<string, unknown> =>
  auditEvent({ verb: 'patch', user: jane(), object: web(2, 5), time: t(20), auditID: 'good-patch' });

async function history(target: string, files: string[]): Promise<{ stderr: string; uids: string[] }> {
  const r = await cli(['history', target, '-n', 'prod-shop', ...files.flatMap((f) => ['--audit-log', f]), '-o', 'json'], { now: NOW });
  expect(r.code, r.stderr).toBe(0);
  return { stderr: r.stderr, uids: (JSON.parse(r.stdout).entries as { uid: string }[]).map((e) => e.uid) };
}

describe('bad input in audit log files: file:line, and the rest read', () => {
  it.each([
    [
      'a truncated line that does not name the object (cut before its name)',
      () => JSON.stringify(patch()).slice(0, 40),
      'a truncated line (the JSON object does not end): the writer was cut off',
    ],
    [
      'a truncated line that names it',
      () => JSON.stringify(patch()).slice(0, 400),
      'a truncated line (the JSON object does not end): the writer was cut off',
    ],
    [
      'an audit.k8s.io/v1beta1 event',
      () => JSON.stringify({ ...patch(), apiVersion: 'audit.k8s.io/v1beta1', auditID: 'beta' }),
      'audit event of audit.k8s.io/v1beta1: only audit.k8s.io/v1 is read',
    ],
    [
      'a line that is no audit event',
      () => JSON.stringify({ kind: 'Deployment', metadata: { name: 'web', namespace: 'prod-shop' } }),
      'not an audit event',
    ],
    ['garbage', () => 'web prod-shop \u0000\u0001 not json', 'not a JSON object'],
  ])('%s', async (_name, bad, message) => {
    const log = path.join(dir(), 'audit.log');
    writeFileSync(log, [JSON.stringify(create()), bad(), JSON.stringify(patch())].join('\n') + '\n');
    const r = await history('deploy/web', [log]);
    expect(r.stderr).toContain(`warning: audit log ${log}:2: ${message}`);
    expect(r.uids).toEqual(['good-patch', 'good-create']);
  });

  it('a 50 MB line is skipped without being held, and the next line is read', async () => {
    const log = path.join(dir(), 'audit.log');
    const huge = JSON.stringify({ ...patch(), auditID: 'huge', padding: 'x'.repeat(50 * 1024 * 1024) });
    writeFileSync(log, [JSON.stringify(create()), huge, JSON.stringify(patch())].join('\n') + '\n');
    const r = await history('deploy/web', [log]);
    expect(r.stderr).toContain(`warning: audit log ${log}:2: a line over 16 MiB: skipped`);
    expect(r.uids).toEqual(['good-patch', 'good-create']);
  }, 30_000);

  it('an event of an unknown kind with no object to name its kind; the events that carry one are read', async () => {
    const log = path.join(dir(), 'audit.log');
    const widget = (rv: number, size: number) => ({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'web', namespace: 'prod-shop', resourceVersion: String(rv) },
      spec: { size },
    });
    const w = { resource: 'widgets', group: 'example.com' };
    // The log begins after the create (rotated away): the first event seen is a write at level
    // Metadata, which names no kind; a later write at RequestResponse carries the object.
    writeFileSync(
      log,
      jsonLines([
        auditEvent({ verb: 'update', user: jane(), time: t(10), auditID: 'w-meta', name: 'web', level: 'Metadata', ...w }),
        auditEvent({ verb: 'patch', user: jane(), object: widget(3, 2), time: t(20), auditID: 'w-patch', ...w }),
      ]),
    );
    const r = await history('widgets.example.com/web', [log]);
    expect(r.stderr).toContain(
      `warning: audit log ${log}:1: an event for an unknown kind: widgets.example.com is not a built-in resource and the event carries no object naming its kind (audit level below RequestResponse)`,
    );
    expect(r.uids).toEqual(['w-patch']);
  });

  it('a file with no newline at its end: its last event is read; cut off there, it is reported', async () => {
    const d = dir();
    const whole = path.join(d, 'whole.log');
    writeFileSync(whole, [JSON.stringify(create()), JSON.stringify(patch())].join('\n'));
    const a = await history('deploy/web', [whole]);
    expect(a.stderr).toBe('');
    expect(a.uids).toEqual(['good-patch', 'good-create']);
    const cut = path.join(d, 'cut.log');
    writeFileSync(cut, [JSON.stringify(create()), JSON.stringify(patch()), JSON.stringify(patch()).slice(0, 30)].join('\n'));
    const b = await history('deploy/web', [cut]);
    expect(b.stderr).toContain(`warning: audit log ${cut}:3: a truncated line`);
    expect(b.uids).toEqual(['good-patch', 'good-create']);
  });

  it('CRLF line ends: every event read, no line taken for bad', async () => {
    const log = path.join(dir(), 'audit.log');
    writeFileSync(log, [JSON.stringify(create()), JSON.stringify(patch())].join('\r\n') + '\r\n');
    const r = await history('deploy/web', [log]);
    expect(r.stderr).toBe('');
    expect(r.uids).toEqual(['good-patch', 'good-create']);
  });

  it('a damaged gzip file, then a plain one: the damage is reported by file:line, the plain file is read', async () => {
    const d = dir();
    // Enough lines that the stream breaks off after some of them.
    const others = Array.from({ length: 2000 }, (_, i) =>
      auditEvent({ verb: 'get', user: jane(), time: t(1), auditID: `get-${i}`, name: `other-${i}` }),
    );
    const gz = gzipSync(jsonLines([create(), ...others]));
    // A run of bytes overwritten in the middle of the deflate stream.
    gz.fill(0xa5, Math.floor(gz.length / 2), Math.floor(gz.length / 2) + 64);
    const old = path.join(d, 'audit-2026-11-24T11-00-00.000.log.gz');
    writeFileSync(old, gz);
    const log = path.join(d, 'audit.log');
    writeFileSync(log, jsonLines([patch()]));
    const r = await history('deploy/web', [old, log]);
    expect(r.stderr).toMatch(
      new RegExp(
        `warning: audit log ${old.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: the gzip stream ends early or is damaged \\(.+\\): the \\d+ whole line\\(s\\) before it were read`,
      ),
    );
    // The create, on the gzip's first line, was read before the damage; the plain file after it.
    expect(r.uids).toEqual(['good-patch', 'good-create']);
  });
});
