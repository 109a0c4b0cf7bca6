/**
 * The image, built from the Dockerfile and run as the Deployment runs it, in front of the suite's
 * real API server: buildah builds it on the stand-in base (scripts/image-base.sh), and
 * `buildah run --isolation chroot` starts its ENTRYPOINT with the Deployment's arguments, as uid
 * 1000, with a read-only root and only the Deployment's mounts (TLS Secret, policies ConfigMap,
 * /tmp, the service account token). The registered webhooks call it by URL (no kubelet runs pods
 * here); a person's edit is denied and the denial is a record on its stdout.
 *
 * Skips loudly where buildah is missing (scripts/ensure-system-deps.sh installs it); under
 * DRIFTGUARD_E2E=required that fails instead.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './cluster/controlplane.js';
import { cluster, describeE2e, getJson, kubectl, kubectlOk, namespace, serviceAccount, eventually } from './support/cluster.js';
import { httpsGet, install, renderInstall, type Driftguard, type Obj } from './support/driftguard.js';
import {
  baseImage,
  buildImage,
  container,
  haveBuildah,
  imageConfig,
  imageSizes,
  runIn,
  runToEnd,
  type Container,
  type ImageConfig,
} from './support/image.js';
import { waitForWebhooks } from './support/harness.js';
import { deployment } from './support/objects.js';

const MB = 1024 * 1024;
const required = process.env.DRIFTGUARD_E2E === 'required';

if (!haveBuildah() && !required) {
  const bar = '!'.repeat(100);
  process.stderr.write(
    `\n${bar}\n!! IMAGE TESTS SKIPPED: buildah not found (Debian package buildah; scripts/ensure-system-deps.sh)\n${bar}\n\n`,
  );
  describe.skip('the image (skipped: buildah not found)', () => it('builds', () => undefined));
} else {
  describeE2e('the image, built with buildah and run as the Deployment runs it', imageSuite);
}

function imageSuite(): void {
  let config: ImageConfig;
  let ctr: Container;
  let rendered: { objects: Obj[]; certDir: string };
  let dg: Driftguard;
  let startToReadyMs = 0;
  let deploymentSpec: Obj;

  beforeAll(async () => {
    if (!haveBuildah()) throw new Error('DRIFTGUARD_E2E=required, but buildah is not installed (scripts/ensure-system-deps.sh)');
    const base = await baseImage();
    const built = await buildImage(base);
    process.stderr.write(`image: built on ${base} in ${built.ms} ms\n`);
    config = await imageConfig();
    ctr = await container();

    rendered = await renderInstall();
    deploymentSpec = rendered.objects.find((o) => o.kind === 'Deployment')!.spec.template.spec;
    dg = await startImage(ctr, config, rendered, deploymentSpec, (ms) => (startToReadyMs = ms));
    await install(rendered, dg.port);
    await waitForWebhooks(dg);
  }, 40 * 60_000);

  afterAll(async () => {
    await dg?.stop();
    await ctr?.remove();
  });

  // The goal is 250 MB; the stand-in base alone is about 220 MB (the node binary 143 MB,
  // Debian minbase about 66 MB, npm 14 MB), and driftguard adds about 58 MB (node_modules 49 MB,
  // dist/ 9 MB): docs/image.md. The ceiling catches growth, the figures are printed.
  const CEILING_MB = 300;

  it('stays under its size ceiling on the stand-in base, and says what takes the space', async () => {
    const sizes = await imageSizes(ctr.root);
    const lines = Object.entries(sizes).map(([k, v]) => `${k} ${(v / MB).toFixed(1)} MB`);
    process.stderr.write(`image: ${lines.join(', ')}; start to ready ${startToReadyMs} ms\n`);
    expect(sizes.total).toBeGreaterThan(sizes['usr/local/bin/node']!);
    expect(sizes.total! / MB).toBeLessThanOrEqual(CEILING_MB);
    // The production image carries no devDependency (npm ci --omit=dev).
    const pkg = JSON.parse(readFileSync(path.join(ctr.root, 'app/package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    for (const dev of ['typescript', 'vitest', 'esbuild', 'playwright-core']) expect(Object.keys(pkg.devDependencies)).toContain(dev);
    const installed = (await runToEnd(ctr, { user: '1000:1000', volumes: [], env: {}, command: ['ls', '/app/node_modules'] })).stdout.split(
      '\n',
    );
    for (const dev of ['typescript', 'vitest', 'esbuild', 'playwright-core']) expect(installed).not.toContain(dev);
    expect(installed).toEqual(expect.arrayContaining(['express', 'pino', 'yaml', 'zod']));
  });

  it('runs as uid 1000 with the Deployment\u2019s arguments, the bundle\u2019s code cache and a root nothing can write', async () => {
    expect(config.user).toBe(`${deploymentSpec.securityContext.runAsUser}:${deploymentSpec.securityContext.runAsGroup}`);
    expect(config.entrypoint).toEqual(['node', '--max-semi-space-size=8', '/app/dist/cli.js']);
    const status = readFileSync(`/proc/${serverPid(dg)}/status`, 'utf8');
    expect(status).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    // The code cache the build made with this image's Node (scripts/bundle.mjs) is in the image.
    const dist = (await runToEnd(ctr, { user: '1000:1000', volumes: [], env: {}, command: ['ls', '/app/dist/bin'] })).stdout;
    expect(dist).toMatch(/^driftguard\.cjs$/m);
    expect(dist).toMatch(/^driftguard\.[0-9a-f]+\.cache$/m);
    // Read-only: as root too, and in the user's own home.
    for (const [user, file] of [
      ['0:0', '/app/probe'],
      ['1000:1000', '/home/node/probe'],
      ['0:0', '/etc/probe'],
      ['0:0', '/var/lib/probe'],
      ['0:0', '/run/lock/probe'],
    ] as const) {
      const r = await runToEnd(ctr, { user, volumes: [], env: {}, command: ['touch', file] });
      expect(r.code, `${user} ${file}`).not.toBe(0);
      expect(r.stderr, `${user} ${file}`).toMatch(/Read-only file system/);
    }
  });

  it("denies a person's edit of an Argo CD-managed Deployment and records it on stdout", async () => {
    await namespace('prod-image');
    const argocd = await serviceAccount('argocd', 'argocd-application-controller', 'cluster-admin');
    await kubectlOk(argocd, ['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      input: JSON.stringify(deployment('prod-image', 'web', { app: 'shop' })),
    });
    const scaled = await kubectl('alice', ['scale', 'deployment/web', '-n', 'prod-image', '--replicas=5']);
    expect(scaled.code).toBe(1);
    expect(scaled.stderr).toMatch(/admission webhook "validate\.driftguard\.io" denied the request: /);
    expect((await getJson('admin', ['deployment', 'web', '-n', 'prod-image'])).spec.replicas).toBe(2);
    const denial = await eventually('the denial record', async () =>
      dg.records().find((r) => r.decision === 'denied' && r.resource?.namespace === 'prod-image'),
    );
    expect(denial.actor?.username ?? denial.user?.username).toBe('alice@example.com');
  });
}

/** The Deployment's arguments, with the port free on this host and loopback as the address. */
function deploymentArgs(spec: Obj, port: number): string[] {
  const args = (spec.containers[0].args as string[]).filter((a) => !a.startsWith('--port='));
  return [...args, `--port=${port}`, '--host=127.0.0.1'];
}

/**
 * The Deployment's volumes as host directories: the TLS Secret's files (tls.crt, tls.key, ca.crt),
 * the policies ConfigMap's files, an empty /tmp, and the service account token the kubelet mounts.
 */
async function startImage(
  ctr: Container,
  config: ImageConfig,
  rendered: { objects: Obj[]; certDir: string },
  spec: Obj,
  onReady: (ms: number) => void,
): Promise<Driftguard> {
  const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-e2e-image-'));
  const mountOf = (volume: string) => spec.containers[0].volumeMounts.find((m: Obj) => m.name === volume).mountPath as string;
  // As the kubelet writes a volume: owned by root, group fsGroup, in the volume's defaultMode
  // (the Secret's 0440: only the group reads the key; ConfigMaps and the token 0644).
  const fsGroup = spec.securityContext.fsGroup as number;
  const files = (name: string, data: Record<string, string>, opts: { base64: boolean; mode: number }) => {
    const d = path.join(dir, name);
    mkdirSync(d);
    for (const [k, v] of Object.entries(data)) {
      const file = path.join(d, k);
      writeFileSync(file, opts.base64 ? Buffer.from(v, 'base64') : v);
      chownSync(file, 0, fsGroup);
      chmodSync(file, opts.mode);
    }
    return d;
  };
  const secret = rendered.objects.find(
    (o) => o.kind === 'Secret' && o.metadata.name === spec.volumes.find((v: Obj) => v.name === 'tls').secret.secretName,
  )!;
  const configMap = rendered.objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === spec.volumes.find((v: Obj) => v.name === 'policies').configMap.name,
  )!;
  const tls = files('tls', secret.data, { base64: true, mode: spec.volumes.find((v: Obj) => v.name === 'tls').secret.defaultMode });
  const policies = files('policies', configMap.data, { base64: false, mode: 0o644 });
  const tmp = path.join(dir, 'tmp');
  mkdirSync(tmp, { mode: 0o1777 });
  const sa = await serviceAccount('driftguard', 'driftguard');
  const token = (JSON.parse(readFileSync(sa.kubeconfig, 'utf8')) as { users: { user: { token: string } }[] }).users[0]!.user.token;
  const saDir = files(
    'serviceaccount',
    { token, 'ca.crt': readFileSync(cluster().caFile, 'utf8'), namespace: 'driftguard' },
    { base64: false, mode: 0o644 },
  );
  const server = new URL(cluster().server);

  const port = await freePort();
  const caFile = path.join(rendered.certDir, 'ca.crt');
  const url = `https://127.0.0.1:${port}`;
  const user = `${spec.securityContext.runAsUser}:${spec.securityContext.runAsGroup}`;
  let proc!: ReturnType<typeof runIn>;
  const launch = async (): Promise<void> => {
    const started = Date.now();
    proc = runIn(ctr, {
      user,
      volumes: [
        `${tls}:${mountOf('tls')}:ro`,
        `${policies}:${mountOf('policies')}:ro`,
        `${tmp}:${mountOf('tmp')}`,
        // The kubelet's path; /var/run is a link to /run in the image.
        `${saDir}:/run/secrets/kubernetes.io/serviceaccount:ro`,
      ],
      // What the kubelet sets for a pod: the API server's Service address.
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
      command: [...config.entrypoint, ...deploymentArgs(spec, port)],
    });
    await eventually(
      'the image to answer /readyz',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.stderr()}`);
        return await httpsGet(`${url}/readyz`, caFile).then(
          () => true,
          () => undefined,
        );
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.stderr()}`);
    });
    onReady(Date.now() - started);
  };
  await launch();
  const records = () =>
    proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Obj);
  return {
    port,
    url,
    caFile,
    recordsFile: '-',
    records,
    stderr: proc.stderr,
    metrics: () => httpsGet(`${url}/metrics`, caFile),
    stop: async () => {
      if (proc.child.exitCode !== null) return;
      const exited = new Promise((r) => proc.child.once('close', r));
      proc.child.kill('SIGTERM');
      const t = setTimeout(() => proc.child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
    restart: launch,
    child: () => proc.child,
  };
}

/** The node process buildah run started (under buildah's chroot helper): the one serving on its port. */
function serverPid(dg: Driftguard): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string[];
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone
    }
    // buildah runs it by its path on PATH: /usr/local/bin/node.
    if (path.basename(cmd[0]!) === 'node' && cmd.includes('/app/dist/cli.js') && cmd.includes(`--port=${dg.port}`)) return Number(entry);
  }
  throw new Error(`no node process serving on ${dg.port}`);
}
