/**
 * Generate src/k8s/list-keys.generated.ts: the keyed lists of every built-in kind, read from a real
 * kube-apiserver's /openapi/v3 (the one of the end-to-end suite: scripts/e2e-cluster.sh).
 *
 *   npx tsx scripts/list-keys.ts --kubeconfig FILE            [--out FILE]
 *   npx tsx scripts/list-keys.ts --server URL --token TOKEN    [--ca FILE | --insecure-skip-tls-verify]
 *
 * Point it at a server with no CustomResourceDefinitions: every group-version it serves is taken
 * as built in. test/e2e/list-keys.test.ts checks the committed file against the server.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient } from '../src/cluster/kube.js';
import { generateListKeysSource, readBuiltinListKeys } from '../src/cluster/list-keys-source.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    server: { type: 'string' },
    token: { type: 'string' },
    ca: { type: 'string' },
    'insecure-skip-tls-verify': { type: 'boolean' },
    out: { type: 'string', default: path.join(import.meta.dirname, '../src/k8s/list-keys.generated.ts') },
  },
});

const opts = { timeoutMs: 30_000 };
let client: KubeClient;
if (values.kubeconfig !== undefined) client = KubeClient.load(values.kubeconfig, opts);
else if (values.server !== undefined) {
  client = KubeClient.fromServer(
    values.server,
    {
      ...(values.token === undefined ? {} : { token: values.token }),
      ...(values.ca === undefined ? {} : { caFile: values.ca }),
      insecureSkipTlsVerify: values['insecure-skip-tls-verify'] === true,
    },
    opts,
  );
} else {
  process.stderr.write(
    'usage: list-keys.ts --kubeconfig FILE | --server URL [--token T] [--ca FILE | --insecure-skip-tls-verify] [--out FILE]\n',
  );
  process.exit(2);
}

const built = await readBuiltinListKeys(client);
writeFileSync(values.out!, generateListKeysSource(built));
process.stderr.write(
  `wrote ${values.out}: ${Object.keys(built.kinds).length} kinds with keyed lists, ${built.groupVersions.length} group-versions, from ${built.source.server}\n`,
);
