/**
 * A test-only mutating webhook: a small HTTPS server (a real certificate from its own CA, verified
 * by the API server through the caBundle) that stamps an annotation on every Deployment it is sent,
 * with a JSONPatch. It is not a fake of anything driftguard talks to: it is another webhook in the
 * cluster, the kind whose fields `explain` must call WEBHOOK.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateCa, issueServingCertificate } from '../../../src/certs/generate.js';
import { applyObjects, eventually, kubectl } from './cluster.js';

export const STAMP_ANNOTATION = 'e2e.driftguard.io/stamp';

export interface StampWebhook {
  /** The MutatingWebhookConfiguration's name and the webhook's. */
  configuration: string;
  name: string;
  /** Reviews received, in order. */
  reviews: Record<string, any>[];
  /** Register it for Deployments in `namespace`, and wait until the API server calls it there. */
  register(namespace: string): Promise<void>;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1; `configuration` decides where it sorts among the mutating configurations. */
export async function startStampWebhook(configuration: string, name: string): Promise<StampWebhook> {
  const now = new Date();
  const ca = await generateCa({ namespace: 'e2e', now });
  const serving = await issueServingCertificate(ca, { service: 'stamp', namespace: 'e2e', extraNames: ['127.0.0.1'], now });
  const reviews: Record<string, any>[] = [];
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const review = JSON.parse(body) as Record<string, any>;
      reviews.push(review);
      const request = review.request;
      const annotations = request.object?.metadata?.annotations;
      const value = `stamp-${reviews.length}`;
      const patch =
        annotations === undefined
          ? [{ op: 'add', path: '/metadata/annotations', value: { [STAMP_ANNOTATION]: value } }]
          : [{ op: 'add', path: `/metadata/annotations/${STAMP_ANNOTATION.replace('/', '~1')}`, value }];
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: review.apiVersion,
          kind: 'AdmissionReview',
          response: {
            uid: request.uid,
            allowed: true,
            patchType: 'JSONPatch',
            patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    configuration,
    name,
    reviews,
    register: async (namespace) => {
      await applyObjects('admin', [
        {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'MutatingWebhookConfiguration',
          metadata: { name: configuration },
          webhooks: [
            {
              name,
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
              reinvocationPolicy: 'Never',
              clientConfig: { url: `https://127.0.0.1:${port}/stamp`, caBundle: Buffer.from(ca.cert).toString('base64') },
              rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }],
              // Only this file's namespace: the other e2e files never meet it.
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            },
          ],
        },
      ]);
      // The registration takes effect when the API server's informer has it: a server dry run shows it.
      await eventually(
        `the ${configuration} webhook to be called`,
        async () => {
          const r = await kubectl('admin', [
            'create',
            'deployment',
            'probe',
            '-n',
            namespace,
            '--image=x',
            '--dry-run=server',
            '-o',
            'json',
          ]);
          return r.code === 0 && JSON.parse(r.stdout).metadata.annotations?.[STAMP_ANNOTATION] !== undefined ? true : undefined;
        },
        30_000,
      );
    },
    close: async () => {
      await kubectl('admin', ['delete', 'mutatingwebhookconfiguration', configuration, '--ignore-not-found']);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
