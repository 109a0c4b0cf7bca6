/**
 * Every command the README shows is run here:
 * - the `$ driftguard ...` examples (the README's, and docs/*.md's) run as printed, on the files the
 *   repository ships, and print what the page shows;
 * - each line of the README's `sh` blocks is run the way a reader would (driftguard commands; `kubectl
 *   apply -k DIR` as the real kubectl's `kubectl kustomize DIR`, in a copy of manifests/ that the
 *   block's `driftguard certs` wrote into), or, for `npm ci && npm start|test`, checked against
 *   package.json. A command of another kind fails the test until something here runs it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/fixtures.js';
import { copyManifests } from '../support/kustomize.js';

const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const PAGES = ['README.md', ...readdirSync(path.join(REPO, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md'));
const CLI = path.join(REPO, 'dist/cli.js');

/** Every fenced block that starts with `$ driftguard ...`: the command line and the output under it. */
function examples(page: string): Array<{ command: string; output: string }> {
  const text = readFileSync(path.join(REPO, page), 'utf8');
  return [...text.matchAll(/```\n\$ (driftguard [^\n]+)\n([\s\S]*?)```/g)].map((m) => ({ command: m[1]!, output: m[2]! }));
}

/** The command lines of the README's `sh` blocks, comments cut. */
function shellCommands(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    m[1]!
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l !== ''),
  );
}

/** Split a command line on spaces (the examples quote nothing). */
const words = (line: string) => line.split(/\s+/).filter((w) => w !== '');

const driftguard = (argv: string[], cwd: string) => spawnSync(process.execPath, [CLI, ...argv], { cwd, encoding: 'utf8', input: '' });

describe('README examples', () => {
  it('the README shows a denied edit and an explain, on files the repository ships', () => {
    const readme = examples('README.md');
    expect(readme.map((e) => words(e.command)[1])).toEqual(['evaluate', 'explain']);
    expect(readme[0]!.output).toContain('"allowed": false');
    expect(readme[1]!.command).toContain('examples/recorded-day/');
  });

  const all = PAGES.flatMap((page) => examples(page).map((e) => [page, e.command, e.output] as const));
  it.each(all)('%s: %s', (_page, command, output) => {
    // Piped (not a terminal): the table is whole, as the page shows it.
    const r = driftguard(words(command).slice(1), REPO);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(output);
    // 0 success, 1 denied (docs/cli.md): never a usage or input error.
    expect([0, 1]).toContain(r.status);
  });
});

describe("the README's shell commands", () => {
  it('are each of a kind this test runs, and it runs them all', () => {
    const commands = shellCommands();
    expect(commands.length).toBeGreaterThan(0);
    const copy = copyManifests().dir;
    const ran: string[] = [];
    for (const line of commands) {
      const argv = words(line);
      if (line === 'npm ci && npm start' || line === 'npm ci && npm test') {
        const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
        readFileSync(path.join(REPO, 'package-lock.json'));
        expect(pkg.scripts[argv[4]!], line).toContain(argv[4] === 'start' ? 'dist/cli.js serve' : 'vitest run');
      } else if (argv[0] === 'driftguard') {
        // In the copy: `certs --out manifests/certs` writes there, not into the repository.
        const cwd = argv[1] === 'certs' ? copy : REPO;
        const r = driftguard(argv.slice(1), cwd);
        expect(r.status, `${line}\n${r.stderr}${r.stdout}`).toBe(0);
      } else if (argv[0] === 'kubectl' && argv[1] === 'apply' && argv[2] === '-k' && argv.length === 4) {
        const yaml = execFileSync('kubectl', ['kustomize', path.join(copy, argv[3]!)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
        const kinds = parseAllDocuments(yaml).map((d) => (d.toJS() as { kind?: string } | null)?.kind);
        // The validating webhook and the entry observer (the exit observer is folded into the validating call).
        expect(
          kinds.filter((k) => k?.endsWith('WebhookConfiguration')),
          line,
        ).toHaveLength(2);
      } else {
        throw new Error(`the README shows \`${line}\`, which no test runs: run it here, or show it in docs/`);
      }
      ran.push(line);
    }
    expect(ran).toEqual(commands);
  });
});
