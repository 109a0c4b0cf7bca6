/**
 * One schema for records: docs/records.md lists exactly its fields, and records the writer makes
 * (through the webhook handler) read back through parseRecord, while one missing a field every
 * record has does not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecord, RECORD_FIELDS } from '../../src/records/record.js';
import { readJson, REPO } from '../support/fixtures.js';
import { judge, policies } from '../support/judge.js';

const doc = readFileSync(path.join(REPO, 'docs/records.md'), 'utf8');

/** The `| field | type | meaning |` rows of a section of docs/records.md: field name -> meaning. */
function sectionFields(heading: string): Map<string, string> {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, `docs/records.md has a section "${heading}"`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const table = section.slice(section.indexOf('| field | type | meaning |'));
  return new Map([...table.matchAll(/^\| `([A-Za-z]+)` \| [^|]+ \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** The backticked names at the start of a meaning cell: `username`, `groups`, `uid` (...). */
function namedSubfields(meaning: string): string[] {
  return [...meaning.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!);
}

describe('docs/records.md and the record schema', () => {
  const common = sectionFields('Common fields');

  it('lists exactly the fields every record has', () => {
    expect([...common.keys()].sort()).toEqual([...RECORD_FIELDS.common].sort());
  });

  it('lists exactly the fields of violation records', () => {
    expect([...sectionFields('Violation records').keys()].sort()).toEqual([...RECORD_FIELDS.violation].sort());
  });

  it('lists exactly the fields of change records (beside common ones it says more about)', () => {
    const own = [...sectionFields('Change records').keys()].filter((f) => !RECORD_FIELDS.common.includes(f as never));
    expect(own.sort()).toEqual([...RECORD_FIELDS.change].sort());
  });

  it('names the fields of actor and resource', () => {
    expect(namedSubfields(common.get('actor')!).sort()).toEqual([...RECORD_FIELDS.actor].sort());
    expect(namedSubfields(common.get('resource')!).sort()).toEqual([...RECORD_FIELDS.resource].sort());
  });

  it('names the fields of a change', () => {
    const cell = common.get('changes')!;
    const braces = /`\{([^}]*)\}`/.exec(cell)?.[1] ?? '';
    expect(braces.split(',').map((s) => s.trim()).sort()).toEqual([...RECORD_FIELDS.changes].sort());
  });
});

describe('parseRecord', () => {
  /** What the writer makes: the records of a denied edit and of Argo CD's admitted update, through the webhook handler. */
  async function written(): Promise<unknown[]> {
    const set = await policies(path.join(REPO, 'policies'));
    const denied = await judge(readJson('reviews', 'kubectl-edit-prod.json'), set);
    const admitted = await judge(readJson('reviews', 'argocd-update-prod.json'), set);
    return [...denied.records, ...denied.changes, ...admitted.records, ...admitted.changes];
  }

  it('reads back every record the writer made, of both types', async () => {
    const records = await written();
    const parsed = records.map((r) => parseRecord(JSON.parse(JSON.stringify(r))));
    expect(parsed.filter((p) => !p.ok)).toEqual([]);
    expect(new Set(parsed.map((p) => (p.ok ? p.record.type : '')))).toEqual(new Set(['violation', 'change']));
  });

  it('refuses a record missing a field every record has, and says which', async () => {
    const record = { ...((await written())[0] as Record<string, unknown>) };
    delete record.actor;
    const r = parseRecord(record);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toMatch(/^actor: /);
  });

  it('drops an owner it cannot use rather than the record', async () => {
    const record = { ...((await written())[0] as Record<string, unknown>), owner: { tool: 'someone-else' } };
    const r = parseRecord(record);
    expect(r.ok).toBe(true);
    expect(r.ok && r.record.owner).toBe(undefined);
  });
});
