/**
 * Graceful drain of an HTTP(S) server on shutdown.
 *
 * `server.close()` stops accepting connections and closes the idle ones, but the API server keeps its
 * connections alive: a review in flight at SIGTERM would be answered with `Connection: keep-alive`,
 * the connection would then sit idle until the grace ran out, and a review sent down it meanwhile
 * could be cut off by the final closeAllConnections (a failed call: with failurePolicy Fail, a
 * refused write). So once draining, every response goes out with `Connection: close`, connections
 * that turn idle are closed at once, and the drain ends when the last response is out.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface Drainer {
  /** Stop accepting, finish what is in flight, close every connection; cut the rest after graceMs. */
  drain(graceMs: number): Promise<void>;
  /** Responses not yet finished. */
  inFlight(): number;
}

/** Install on a server before it listens. One Set add and delete per request. */
export function drainable(server: Server): Drainer {
  const open = new Set<ServerResponse>();
  let draining = false;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      res.setHeader('connection', 'close');
      return;
    }
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  return {
    inFlight: () => open.size,
    drain(graceMs) {
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
      return new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        // A response sent just before the drain began may leave its connection idle afterwards.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        cut.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
