/**
 * The program as one bundle: src/cli/bin.ts and what it imports -> dist/bin/driftguard.cjs (esbuild),
 * run by the bins' entry point dist/cli.js (src/cli.ts). `npm run build` runs it after tsc, which
 * still compiles every other module to dist/ (tests and test/bench import them). Node resolves and
 * reads one file instead of hundreds, so the server starts sooner (README, Performance). What only
 * other commands need is loaded with import() in their action: it is in the bundle, but not
 * evaluated when the server starts.
 *
 * A CommonJS script, so that V8 can cache its compiled code: after bundling, the program is run
 * once per way it is started (below), and each run leaves V8's code cache beside the bundle for
 * src/cli.ts to start from.
 *
 * Left to node_modules, loaded only when needed: @kubernetes/client-node (with a cluster) and
 * selfsigned (when a certificate is made); and iconv-lite, below.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { SERVE_NODE_FLAGS } from './serve-flags.mjs';

const root = path.resolve(import.meta.dirname, '..');

/**
 * iconv-lite's tables of encodings (for a body in a charset other than UTF-8), read on demand: left
 * in node_modules, they are not parsed at every start. A quarter of the bundle's size otherwise.
 * A dependency of its own in package.json, so the bundle finds it there.
 */
const ON_DEMAND = ['iconv-lite'];

/** zod's error messages in English only (`z.locales` holds just `en`): its 40 other locales are a quarter of the bundle. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: path.resolve(args.resolveDir, args.path), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: path.dirname(args.path),
    }));
  },
};

/**
 * Modules Express loads at start that serving never uses, evaluated on first use instead (they stay
 * in the bundle). Reviews skip Express (src/server/app.ts) and the probes answer with the project's
 * own helper, so nothing calls them unless a route of Express's own does:
 * - body-parser (with raw-body, type-is and http-errors): express/lib/express.js only re-exports its
 *   four parsers as express.json() and the like, which driftguard never calls;
 * - mime-types (with its 150 KB mime-db table, indexed at load): read by res.type()/res.send() and
 *   content negotiation, i.e. only by GET /metrics and Express's own error pages.
 * Together about 10 ms of start to ready (docs/performance.md). Each stand-in forwards to the real
 * module, loaded by the first call.
 */
const LAZY = {
  'body-parser': (real) =>
    `let m; const load = () => (m ??= require(${real}));\n` +
    ['json', 'raw', 'text', 'urlencoded'].map((f) => `exports.${f} = (options) => load().${f}(options);`).join('\n'),
  'mime-types': (real) =>
    `let m; const load = () => (m ??= require(${real}));\n` +
    'module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load() });',
};

const lazyAtStart = {
  name: 'lazy-at-start',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(LAZY).join('|')})$`) }, async (args) => {
      if (args.pluginData === 'lazy-real') return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'lazy-real' });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: 'lazy-at-start', pluginData: args.path };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-at-start' }, (args) => ({
      contents: LAZY[args.pluginData](JSON.stringify(args.path)),
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

const dist = path.join(root, 'dist');

const bin = path.join(dist, 'bin');
rmSync(bin, { recursive: true, force: true });

const built = await build({
  absWorkingDir: root,
  entryPoints: { driftguard: 'src/cli/bin.ts' },
  outdir: bin,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20.19',
  external: ['@kubernetes/client-node', 'selfsigned', ...ON_DEMAND],
  plugins: [zodEnglishOnly, lazyAtStart],
  // Less to parse at start, and a map for stack traces (node --enable-source-maps). Identifiers are
  // not renamed, so classes and functions keep their names without esbuild's keepNames, which
  // wraps every function expression in a call that sets its name, at every evaluation: the engine
  // made 20 such calls per review for one closure alone.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // import.meta.url (createRequire in src/cluster/kube.ts) as in the ES module it was.
  define: { 'import.meta.url': '__driftguardUrl' },
  banner: { js: "const __driftguardUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});

// The bundle runs from V8's code cache, where Node 20 has no loader for import() (src/cli.ts): what
// it leaves out must be require()d.
const dynamic = Object.values(built.metafile.outputs).flatMap((out) =>
  out.imports.filter((i) => i.external && i.kind === 'dynamic-import'),
);
if (dynamic.length > 0)
  throw new Error(`the bundle import()s modules it leaves out; require() them instead: ${dynamic.map((i) => i.path).join(', ')}`);

/**
 * Run the built program with `nodeFlags` and `args`, telling it to write its code cache when it
 * exits; `serving` waits for it to serve, asks /readyz, and stops it as a pod is stopped (SIGTERM).
 */
function cacheRun(nodeFlags, args, serving) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, path.join(dist, 'cli.js'), ...args], {
      cwd: root,
      env: { ...process.env, DRIFTGUARD_WRITE_CODE_CACHE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const url = serving ? /"url":"(https:\/\/[^"]+)"[^\n]*"msg":"driftguard serving"/.exec(stderr)?.[1] : undefined;
      if (url === undefined) return;
      serving = false;
      get(`${url}/readyz`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        res.on('end', () => child.kill('SIGTERM'));
      }).on('error', () => child.kill('SIGTERM'));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the code cache run (${[...nodeFlags, ...args].join(' ')}) ended with ${code ?? signal}: ${stderr}`));
    });
  });
}

const scratch = mkdtempSync(path.join(tmpdir(), 'driftguard-code-cache-'));
try {
  // As `npm start` and the image serve: generated certificates, the sample policies, a record file.
  await cacheRun(
    SERVE_NODE_FLAGS,
    [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert-dir',
      path.join(scratch, 'certs'),
      '--policies',
      path.join(root, 'policies'),
      '--records',
      path.join(scratch, 'records.jsonl'),
    ],
    true,
  );
  // As every other command starts: without flags.
  await cacheRun([], ['policy', 'lint', path.join(root, 'policies')], false);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const caches = readdirSync(bin).filter((f) => f.endsWith('.cache'));
if (caches.length !== 2) throw new Error(`expected two code caches in ${bin}, found: ${caches.join(', ') || 'none'}`);
