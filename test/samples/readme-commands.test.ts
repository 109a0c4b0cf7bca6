/**
 * The README's `$ driftguard ...` examples run as printed, on the files the repository ships
 * (examples/recorded-day/), and print what the README shows.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/fixtures.js';

const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** Every fenced block that starts with `$ driftguard ...`: the command line and the output under it. */
function examples(): Array<{ command: string; output: string }> {
  const out: Array<{ command: string; output: string }> = [];
  for (const m of README.matchAll(/```\n\$ (driftguard [^\n]+)\n([\s\S]*?)```/g)) out.push({ command: m[1]!, output: m[2]! });
  return out;
}

/** Split a command line on spaces (the README's examples quote nothing). */
const words = (line: string) => line.split(/\s+/).filter((w) => w !== '');

describe('README examples', () => {
  it('there are explain and history examples, on the shipped recorded day', () => {
    const commands = examples().map((e) => words(e.command)[1]);
    expect(commands).toEqual(expect.arrayContaining(['explain', 'history']));
    for (const e of examples()) expect(e.command).toContain('examples/recorded-day/');
  });

  it.each(examples().map((e) => [e.command, e.output]))('%s', (command, output) => {
    const argv = words(command).slice(1);
    // Piped (not a terminal): the table is whole, as the README shows it.
    const printed = execFileSync(process.execPath, [path.join(REPO, 'dist/cli.js'), ...argv], { cwd: REPO, encoding: 'utf8', input: '' });
    expect(printed).toBe(output);
  });
});
