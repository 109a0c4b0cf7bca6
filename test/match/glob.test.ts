/**
 * `*` globs (namespaces, kinds, users): one star is matched without a regular expression (it runs for every policy of every request); these pin that every shape still means the same.
 */
import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobList } from '../../src/match/glob.js';

const cases: [string, string[], string[]][] = [
  ['prod-*', ['prod-', 'prod-shop', 'prod-*'], ['prod', 'xprod-shop', 'Prod-shop', '']],
  ['*-system', ['-system', 'kube-system', 'flux-system'], ['system', 'kube-system ', 'kube-systems']],
  ['team-*-prod', ['team--prod', 'team-a-prod', 'team-a-b-prod'], ['team-prod', 'team-a-prod-x', 'xteam-a-prod']],
  ['a*a', ['aa', 'aba', 'aaa'], ['a', 'ab', 'ba']],
  ['a.b*', ['a.b', 'a.bc'], ['axb', 'axbc']],
  ['*', ['', 'anything'], []],
  ['exact', ['exact'], ['exact ', 'exac', 'Exact']],
  ['a*b*c', ['abc', 'a-b-c', 'aXXbYYc'], ['ab', 'acb', 'abcd']],
  ['(x)*', ['(x)', '(x)y'], ['x', 'xy']],
];

describe('compileGlob', () => {
  for (const [pattern, yes, no] of cases) {
    it(`${pattern} matches ${yes.map((y) => JSON.stringify(y)).join(', ') || 'nothing listed'} and not ${no.map((n) => JSON.stringify(n)).join(', ') || '-'}`, () => {
      const m = compileGlob(pattern);
      for (const v of yes) expect(m(v), v).toBe(true);
      for (const v of no) expect(m(v), v).toBe(false);
    });
  }

  it('a list matches exact names and globs together', () => {
    const m = compileGlobList(['staging', 'prod-*', '*-canary']);
    expect(['staging', 'prod-eu', 'web-canary'].map(m)).toEqual([true, true, true]);
    expect(['stagingx', 'dev-eu', 'canary'].map(m)).toEqual([false, false, false]);
  });
});
