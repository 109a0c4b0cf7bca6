/**
 * The Dockerfile, read with a Dockerfile parser (no Docker engine on these machines, so the image is
 * never built here): stages, what each installs, the user, what it copies, and that the production
 * build needs nothing outside `dependencies`.
 */
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../scripts/serve-flags.mjs';
import { REPO } from '../support/fixtures.js';

const dockerfile = DockerfileParser.parse(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

function stages(): Stage[] {
  const out: Stage[] = [];
  for (const i of dockerfile.getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === i.getRange().start.line)!;
      out.push({ from: from.getImage() ?? '', name: from.getBuildStage() ?? undefined, instructions: [] });
    } else if (out.length > 0) out.at(-1)!.instructions.push(i);
  }
  return out;
}

const runs = (s: Stage) => s.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent() ?? '');
const copies = (s: Stage) => s.instructions.filter((i) => i.getKeyword() === 'COPY');
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const fromFlag = (i: Instruction) => (i instanceof Copy ? i.getFromFlag()?.getValue() : undefined);

describe('Dockerfile', () => {
  it('has a build stage and a final stage from the same Node image, an even (LTS) line the engines range allows', () => {
    const [build, final] = [stages()[0]!, stages().at(-1)!];
    expect(stages()).toHaveLength(2);
    expect(build.name).toBe('build');
    expect(final.from).toBe(build.from);
    const image =
      dockerfile
        .getInitialARGs()
        .find((a) => `\${${a.getProperty()?.getName()}}` === build.from)
        ?.getProperty()
        ?.getValue() ?? build.from;
    const m = /^node:(\d+)-slim$/.exec(image);
    expect(m, image).not.toBeNull();
    const major = Number(m![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(pkg.engines.node)![1]));
  });

  it('installs everything and builds in the first stage, and only production dependencies in the last', () => {
    const [build, final] = [stages()[0]!, stages().at(-1)!];
    expect(runs(build).some((r) => /^npm ci\b/.test(r))).toBe(true);
    expect(runs(build).join(' && ')).toContain('npm run build');
    expect(runs(final).some((r) => /^npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs(final).join(' ')).not.toContain('npm run build');
    for (const r of [...runs(build), ...runs(final)]) expect(r, 'npm ci from the lock, never npm install').not.toMatch(/npm (i|install)\b/);
    // The build script exists and compiles and bundles with the files the build stage copies.
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
    expect(pkg.scripts.build).toContain('scripts/bundle.mjs');
    const copiedToBuild = copies(build).flatMap((c) => args(c).slice(0, -1));
    // The bundle's code cache is made by serving the sample policies with the flags of `npm start`.
    for (const f of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'scripts/bundle.mjs',
      'scripts/serve-flags.mjs',
      'src',
      'policies',
    ])
      expect(copiedToBuild).toContain(f);
  });

  it('takes only the compiled output from the build stage and runs it as a numeric non-root user', () => {
    const final = stages().at(-1)!;
    const fromBuild = copies(final).filter((c) => fromFlag(c) === 'build');
    expect(fromBuild.map((c) => args(c)[0])).toEqual(['/src/dist']);
    const users = final.instructions.filter((i) => i.getKeyword() === 'USER').map((i) => i.getArgumentsContent() ?? '');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    // The Deployment runs as the same user (runAsNonRoot can only check a numeric USER).
    const deploy = parse(readFileSync(path.join(REPO, 'manifests/base/deployment.yaml'), 'utf8'));
    expect(deploy.spec.template.spec.securityContext).toMatchObject({ runAsUser: uid, runAsGroup: gid });
  });

  it('starts the same file the package bins point at', () => {
    const entry = dockerfile.getInstructions().find((i) => i.getKeyword() === 'ENTRYPOINT')!;
    // With the Node.js flags `npm start` serves with (and the benches measure).
    expect(SERVE_NODE_FLAGS).toContain('--max-semi-space-size=8');
    expect(JSON.parse(entry.getArgumentsContent() ?? '[]')).toEqual(['node', ...SERVE_NODE_FLAGS, `/app/${pkg.bin.driftguard}`]);
    expect(pkg.bin['kubectl-driftguard']).toBe(pkg.bin.driftguard);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = readFileSync(path.join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const c of stages().flatMap(copies)) {
      if (fromFlag(c) !== undefined) continue;
      for (const src of args(c).slice(0, -1)) {
        expect(existsSync(path.join(REPO, src)), src).toBe(true);
        expect(
          ignored.some((p) => p === src || p === src.split('/')[0]),
          `${src} is in .dockerignore`,
        ).toBe(false);
      }
    }
    for (const heavy of ['node_modules', '.git', 'dist', 'test', 'certs', 'records']) expect(ignored).toContain(heavy);
  });
});

/** Bare module specifiers imported anywhere in the compiled output. */
function importedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      for (const p of importedPackages(full)) found.add(p);
      continue;
    }
    if (!entry.endsWith('.js')) continue;
    const text = readFileSync(full, 'utf8');
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
      ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
      ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      // createRequire()'d modules, loaded on first use (src/cluster/kube.ts: client-node)
      ...text.matchAll(/\brequire\w*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specs) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return found;
}

describe('the production image', () => {
  it('needs no package outside `dependencies` (npm ci --omit=dev is enough)', () => {
    const used = [...importedPackages(path.join(REPO, 'dist'))].sort();
    expect(used).toEqual(expect.arrayContaining(['@kubernetes/client-node', 'express', 'pino', 'selfsigned', 'yaml', 'zod']));
    expect(used.filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });
});
