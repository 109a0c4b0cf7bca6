/** The one formatter of changed-field lists, in each of the forms its users read. */
import { describe, expect, it } from 'vitest';
import { changeField, changeLabel, fieldLabel, fieldList } from '../../src/engine/field-list.js';

const fields = ['/spec/replicas', '/spec/template/spec/containers[name=web]/image', '', '/metadata/labels/app'];

describe('fieldList', () => {
  it('lists every field when nothing is cut, the empty pointer as the whole object', () => {
    expect(fieldList(fields)).toBe('/spec/replicas, /spec/template/spec/containers[name=web]/image, (whole object), /metadata/labels/app');
    expect(fieldList([])).toBe('');
  });

  it('counts what it leaves out, omitted fields included', () => {
    expect(fieldList(fields, { max: 2 })).toBe('/spec/replicas, /spec/template/spec/containers[name=web]/image and 2 more');
    expect(fieldList(fields, { max: 2, omitted: 3 })).toBe('/spec/replicas, /spec/template/spec/containers[name=web]/image and 5 more');
    expect(fieldList(fields.slice(0, 1), { max: 5, omitted: 1 })).toBe('/spec/replicas and 1 more');
  });

  it('says "and more" for a cut diff and "+N" in a table cell', () => {
    expect(fieldList(fields, { max: 1, omitted: 1, rest: 'unknown' })).toBe('/spec/replicas and more');
    expect(fieldList(fields, { max: 3, rest: 'unknown' })).toBe(
      '/spec/replicas, /spec/template/spec/containers[name=web]/image, (whole object) and more',
    );
    expect(fieldList(fields, { max: 3, omitted: 2, rest: 'plus' })).toBe(
      '/spec/replicas, /spec/template/spec/containers[name=web]/image, (whole object) +3',
    );
    expect(fieldList(fields.slice(0, 2), { max: 3, rest: 'plus' })).toBe('/spec/replicas, /spec/template/spec/containers[name=web]/image');
  });

  it('names a change by key where it has one, the whole object for the root', () => {
    const keyed = { path: '/spec/template/spec/containers/0/image', keyed: '/spec/template/spec/containers[name=web]/image' };
    expect(changeField(keyed)).toBe(keyed.keyed);
    expect(changeField({ path: '/spec/replicas' })).toBe('/spec/replicas');
    expect(changeField({ path: '' })).toBe('');
    expect(changeLabel({ path: '' })).toBe('(whole object)');
    expect(changeLabel(keyed)).toBe(keyed.keyed);
    expect(fieldLabel('/data/password')).toBe('/data/password');
  });
});
