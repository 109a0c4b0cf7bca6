/** A small HTTPS client for tests: trusts the test CA, returns status, headers and parsed body. */
import https from 'node:https';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export function request(
  url: string,
  opts: {
    ca: string;
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string | number>;
    timeoutMs?: number;
    cert?: string;
    key?: string;
    /** A connection pool (kept-alive connections, as the API server keeps them); default: a new connection. */
    agent?: https.Agent;
  },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'POST',
        ca: opts.ca,
        ...(opts.cert === undefined ? {} : { cert: opts.cert, key: opts.key }),
        headers: opts.headers ?? {},
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function postJson(url: string, body: unknown, opts: { ca: string; contentType?: string }): Promise<HttpResult> {
  return request(url, {
    ca: opts.ca,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': opts.contentType ?? 'application/json' },
  });
}
