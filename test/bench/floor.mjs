/**
 * The floor: the least a webhook can do on node:https. Read the body, parse the review, answer
 * "allowed" in the review's apiVersion with its uid. No framework, no policies, no records.
 * Usage: node floor.mjs CERT KEY PORT
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';

const [cert, key, port] = process.argv.slice(2);
const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, (req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let review;
    try {
      review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
      return;
    }
    const body = JSON.stringify({
      apiVersion: review.apiVersion,
      kind: 'AdmissionReview',
      response: { uid: review.request?.uid, allowed: true },
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
});
server.listen(Number(port ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
