/**
 * Graceful drain of an HTTP(S) server on shutdown.
 *
 * `server.close()` stops accepting connections and closes the idle ones, but the API server keeps its
 * connections alive: a review in flight at SIGTERM would be answered with `Connection: keep-alive`,
 * the connection would then sit idle until the grace ran out, and a review sent down it meanwhile
 * could be cut off by the final closeAllConnections (a failed call: with failurePolicy Fail, a
 * refused write). So once draining, every response goes out with `Connection: close`, connections
 * that turn idle are closed at once, and the drain ends when the last response is out.
 *
 * closeIdleConnections alone misses one kind of idle connection: one that has sent nothing since it
 * was opened. Node counts a connection as busy from the moment it opens until its first request has
 * been read (so that headersTimeout covers a client that never sends one), and close() stops the
 * timer that would enforce it. The API server's connection pool leaves such connections: a call
 * that waited for a connection dials a new one, takes another that fell free first, and the new
 * one joins the pool unused. Held open, each kept the process up for the whole grace
 * (test/e2e/shutdown.test.ts). So a connection that has read no byte since it was ready and has
 * been quiet for QUIET_MS is closed too; one that has read a byte is a request being sent, left to
 * finish.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Server as TlsServer } from 'node:tls';

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
/**
 * A connection that is ready but has sent nothing is closed once it has been so this long: a client
 * that has just dialed writes its request at once, and is not cut off between handshake and request.
 */
export const QUIET_MS = 100;

export function drainable(server: Server): Drainer {
  const slots: (ServerResponse | undefined)[] = [];
  const free: number[] = [];
  let draining = false;
  // Open connections and when each was ready (after the TLS handshake on HTTPS): one add and one
  // delete per connection, none per request.
  const opened = new Map<Socket, number>();
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    opened.set(socket, performance.now());
    socket.once('close', () => opened.delete(socket));
  });
  const closeQuiet = (): void => {
    const now = performance.now();
    for (const [socket, readyAt] of opened) if (socket.bytesRead === 0 && now - readyAt >= QUIET_MS) socket.destroy();
  };
  const closeIdle = (): void => {
    server.closeIdleConnections();
    closeQuiet();
  };
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
        // A connection still quiet when the drain began is closed at the first sweep after QUIET_MS.
        const sweep = setInterval(closeIdle, QUIET_MS);
        cut.unref();
        sweep.unref();
        server.close(() => {
          clearTimeout(cut);
          clearInterval(sweep);
          resolve();
        });
        closeIdle();
      });
    },
  };
}
