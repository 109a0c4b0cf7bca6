/** One grammar and one wording for flag values across commands (audit, explain, history, policy, serve, certs). */
import { describe, expect, it } from 'vitest';
import { oneOf, wholeNumber } from '../../src/cli/flags.js';
import { parseTimeFlag } from '../../src/cli/time.js';
import { cli } from '../support/cli.js';

const now = new Date('2026-11-24T12:00:00Z');

describe('flag values', () => {
  it('--since/--until accept compound durations with weeks, dates and zoned RFC 3339 times; nothing else', () => {
    expect(parseTimeFlag('1w1d', '--since', now).toISOString()).toBe('2026-11-16T12:00:00.000Z');
    expect(parseTimeFlag('2026-11-20', '--since', now).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(() => parseTimeFlag('2026-11-20T10:00:00', '--until', now)).toThrow(/--until must be a duration/);
    expect(() => parseTimeFlag('2026-13-45', '--since', now)).toThrow(/DG_USAGE|must be/);
  });

  it('audit and explain read --since the same way', async () => {
    const audit = await cli(['audit', '-', '--since', 'last week'], { stdin: '' });
    const explain = await cli(['explain', 'deploy/web', '-n', 'prod', '-', '--since', 'last week'], { stdin: '' });
    for (const r of [audit, explain]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--since must be a duration (90m, 1h30m, 7d), a date (2026-11-24) or an RFC 3339 time, got last week');
    }
  });

  it('choices and whole numbers are refused in one wording', () => {
    expect(() => oneOf('--output', 'yaml', ['table', 'json', 'csv'])).toThrow('--output must be table, json or csv, got yaml');
    expect(oneOf('--output', 'json', ['text', 'json'])).toBe('json');
    expect(() => wholeNumber('1.5', '--top', 1, 100)).toThrow('--top must be a whole number from 1 to 100, got 1.5');
    expect(wholeNumber('0', '--port', 0, 65535)).toBe(0);
  });
});
