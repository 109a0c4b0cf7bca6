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

/**
 * Install on a server before it listens. The responses in flight sit in the slots of one array,
 * each slot reused once its response closes: two array stores per request.
 *
 * Not a Set: V8 rebuilds a Set's table after every few adds and deletes, and the table it leaves
 * links to its successor and keeps the responses it held. Once a full GC has moved one table to the
 * old generation, every scavenge must keep the whole chain of later tables alive, and with them each
 * response's request, headers and closures: garbage copied and promoted at every scavenge under
 * load, longer pauses and more RSS (the figures: docs/performance.md, "Figures the code's comments rely on").
 */
export function drainable(server: Server): Drainer {
  const slots: (ServerResponse | undefined)[] = [];
  const free: number[] = [];
  let draining = false;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) {
      res.setHeader('connection', 'close');
      return;
    }
    const slot = free.pop() ?? slots.length;
    slots[slot] = res;
    res.once('close', () => {
      slots[slot] = undefined;
      free.push(slot);
    });
  });
  return {
    // Every slot is either in use or free.
    inFlight: () => slots.length - free.length,
    drain(graceMs) {
      draining = true;
      for (const res of slots) if (res !== undefined && !res.headersSent) res.setHeader('connection', 'close');
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
