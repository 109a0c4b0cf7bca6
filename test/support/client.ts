/**
 * A keep-alive HTTP(S) client for the fuzz and load tests: many requests over a few reused
 * connections, each bounded by a timeout, answers returned as data (never thrown).
 */
import http from 'node:http';
import https from 'node:https';

interface ClientAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
}

type ClientOutcome = { ok: true; answer: ClientAnswer; ms: number } | { ok: false; error: string; ms: number };

export interface Client {
  post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<ClientOutcome>;
  close(): void;
}

export function createClient(baseUrl: string, opts: { ca?: string; maxSockets?: number; timeoutMs?: number } = {}): Client {
  const url = new URL(baseUrl);
  const secure = url.protocol === 'https:';
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 8 };
  const agent = secure
    ? new https.Agent({ ...agentOptions, ...(opts.ca === undefined ? {} : { ca: opts.ca }) })
    : new http.Agent(agentOptions);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    post(path, body, headers = { 'content-type': 'application/json' }) {
      const started = performance.now();
      return new Promise((resolve) => {
        let settled = false;
        const done = (o: { ok: true; answer: ClientAnswer } | { ok: false; error: string }): void => {
          if (settled) return;
          settled = true;
          resolve({ ...o, ms: performance.now() - started });
        };
        const mod = secure ? https : http;
        const req = mod.request(
          {
            host: url.hostname,
            port: url.port,
            path,
            method: 'POST',
            agent,
            headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              done({
                ok: true,
                answer: {
                  status: res.statusCode ?? 0,
                  contentType: res.headers['content-type'],
                  text: Buffer.concat(chunks).toString('utf8'),
                },
              }),
            );
            res.on('error', (err) => done({ ok: false, error: err.message }));
            res.on('aborted', () => done({ ok: false, error: 'response aborted' }));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on('error', (err) => done({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/** Run `total` jobs with at most `concurrency` in flight; resolves when all have settled. */
export async function pool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await job(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}
