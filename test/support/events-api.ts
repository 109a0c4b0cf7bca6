/**
 * The Events calls on the shared fake API server (fake-apiserver.ts: HTTPS, its own CA, token auth):
 * POST /api/v1/namespaces/NS/events -> 201 with the stored object (409 AlreadyExists for a taken
 * name), PATCH .../events/NAME with a JSON merge patch -> 200 (404 NotFound when there is none, 415
 * for another content type), errors as metav1.Status. `mode` makes it fail, refuse or hang instead.
 */
import type { ServerResponse } from 'node:http';
import { json, startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';

type Mode = 'ok' | 'fail' | 'hang' | 'forbidden';

interface EventCall {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: any;
  /** performance.now() when it arrived. */
  at: number;
}

export interface EventsApi {
  api: FakeApiServer;
  kubeconfig: string;
  requests: EventCall[];
  /** Stored Events by namespace/name. */
  events: Map<string, any>;
  mode: Mode | ((call: EventCall) => Mode);
  close(): Promise<void>;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

export async function startEventsApi(): Promise<EventsApi> {
  const api = await startFakeApiServer();
  let rv = 1000;
  const e: EventsApi = { api, kubeconfig: api.kubeconfig, requests: [], events: new Map(), mode: 'ok', close: () => api.close() };
  const handle = (call: EventCall, res: ServerResponse, act: () => void): void => {
    e.requests.push(call);
    const mode = typeof e.mode === 'function' ? e.mode(call) : e.mode;
    if (mode === 'hang') return;
    if (mode === 'fail') return status(res, 500, 'InternalError', 'etcdserver: request timed out');
    if (mode === 'forbidden')
      return status(
        res,
        403,
        'Forbidden',
        'events is forbidden: User "system:serviceaccount:driftguard:driftguard" cannot create resource "events"',
      );
    act();
  };
  const callOf = (req: { method: string; path: string; headers: Record<string, unknown>; body: string }): EventCall => ({
    method: req.method,
    path: req.path,
    contentType: req.headers['content-type'] as string | undefined,
    authorization: req.headers.authorization as string | undefined,
    body: req.body === '' ? undefined : JSON.parse(req.body),
    at: performance.now(),
  });
  api.route('POST', /^\/api\/v1\/namespaces\/[^/]+\/events$/, (req, res) => {
    const call = callOf(req);
    handle(call, res, () => {
      const ns = decodeURIComponent(call.path.split('/')[4]!);
      const name = call.body?.metadata?.name;
      if (call.body?.kind !== 'Event' || typeof name !== 'string') return status(res, 422, 'Invalid', 'Event is invalid');
      if (e.events.has(`${ns}/${name}`)) return status(res, 409, 'AlreadyExists', `events "${name}" already exists`);
      const stored = { ...call.body, metadata: { ...call.body.metadata, namespace: ns, uid: `uid-${rv}`, resourceVersion: String(rv++) } };
      e.events.set(`${ns}/${name}`, stored);
      json(res, 201, stored);
    });
  });
  api.route('PATCH', /^\/api\/v1\/namespaces\/[^/]+\/events\/[^/]+$/, (req, res) => {
    const call = callOf(req);
    handle(call, res, () => {
      if (call.contentType !== 'application/merge-patch+json') {
        return status(
          res,
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        );
      }
      const [, , , , ns, , name] = call.path.split('/');
      const key = `${decodeURIComponent(ns!)}/${decodeURIComponent(name!)}`;
      const current = e.events.get(key);
      if (current === undefined) return status(res, 404, 'NotFound', `events "${name}" not found`);
      const merged = { ...current, ...call.body, metadata: { ...current.metadata, resourceVersion: String(rv++) } };
      e.events.set(key, merged);
      json(res, 200, merged);
    });
  });
  return e;
}
