import { describe, expect, it } from 'vitest';
import { buildReview } from '../../src/admission/build.js';
import { preview, MAX_VALUE_CHARS } from '../../src/records/preview.js';
import { REDACTED, sanitizeValue } from '../../src/records/secrets.js';
import { MAX_CHANGES_PER_RECORD, recordChanges } from '../../src/records/builders.js';
import { object } from '../support/fixtures.js';
import { jane } from '../support/identities.js';

describe('values in records', () => {
  it('keeps small values as they are', () => {
    expect(preview({ a: [1, 'x'] })).toEqual({ value: { a: [1, 'x'] }, truncated: false });
    expect(preview(3)).toEqual({ value: 3, truncated: false });
  });

  it('cuts long strings and large objects at 256 characters', () => {
    const s = preview('x'.repeat(1000));
    expect(s.truncated).toBe(true);
    expect(s.value).toBe(`${'x'.repeat(MAX_VALUE_CHARS)}…`);
    const o = preview(object('deployment-prod-web'));
    expect(o.truncated).toBe(true);
    expect((o.value as string).length).toBe(MAX_VALUE_CHARS + 1);
    expect((o.value as string).startsWith('{"apiVersion":"apps/v1","kind":"Deployment"')).toBe(true);
  });

  it('lists at most 100 changes per record and counts the rest', () => {
    const review = buildReview({ operation: 'UPDATE', userInfo: jane(), object: object('deployment-prod-web'), oldObject: object('deployment-prod-web') });
    const changes = Array.from({ length: 150 }, (_, i) => ({ path: `/spec/x${i}`, op: 'add' as const, new: i }));
    const r = recordChanges(review.request, changes);
    expect(r.changes).toHaveLength(MAX_CHANGES_PER_RECORD);
    expect(r.omitted).toBe(50);
  });
});

describe('Secret redaction', () => {
  const secret = object('secret-flux-db') as any;

  it('masks data and stringData values at every depth a change can name', () => {
    expect(sanitizeValue('c2VjcmV0', '/data/password', true)).toBe(REDACTED);
    expect(sanitizeValue({ password: 'c2VjcmV0' }, '/data', true)).toBe(REDACTED);
    const whole = sanitizeValue(secret, '', true) as any;
    expect(whole.data).toEqual({ password: REDACTED, username: REDACTED });
    expect(whole.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe(REDACTED);
    expect(whole.metadata.name).toBe('db');
    const meta = sanitizeValue(secret.metadata, '/metadata', true) as any;
    expect(meta.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBe(REDACTED);
    expect(JSON.stringify(whole)).not.toContain(secret.data.password);
  });

  it('leaves other kinds alone except for the last-applied annotation in whole-object values', () => {
    const cm = { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":1}', keep: 'x' } }, data: { a: 'b' } };
    expect(sanitizeValue(cm, '', false)).toEqual({ metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED, keep: 'x' } }, data: { a: 'b' } });
    expect(sanitizeValue('b', '/data/a', false)).toBe('b');
  });

  it('does not mutate the object under review', () => {
    const copy = structuredClone(secret);
    sanitizeValue(secret, '', true);
    expect(secret).toEqual(copy);
  });
});
