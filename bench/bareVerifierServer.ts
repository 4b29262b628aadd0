import http from 'node:http';
import { loadConfig } from '../src/config/config';
import { SignatureVerificationError, verifyWebhookSignature } from '../src/signature';

/**
 * The floor the service is compared against: a plain node:http server, one process, that reads
 * the body, verifies the signature exactly as the service does, parses the JSON and answers 200.
 * No Express, no validation of events, no Postgres, no Redis. Configured like the service, through the same environment
 * variables and loadConfig, so that path, keys and signature options (v6, 60 s clock skew, no
 * maximum age) are the service's defaults and cannot drift from them.
 * GET /readyz answers 200 so that testkit/ServiceProcess.ts can wait for it like for the service.
 */

const config = loadConfig(process.env);
const keys = config.webhook.verificationKeys;
if (keys === undefined) throw new Error('UPVEST_WEBHOOK_JWKS is required');
const verifyOptions = { keyLookup: keys.lookup, ...config.signature };

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    answer(request, Buffer.concat(chunks)).then(
      ([status, body]) => send(response, status, body),
      (error: Error) => send(response, 500, { error: error.message }),
    );
  });
});

async function answer(request: http.IncomingMessage, body: Buffer): Promise<[number, object]> {
  const url = new URL(request.url ?? '/', 'http://placeholder');
  if (request.method === 'GET' && url.pathname === '/readyz') return [200, { status: 'ready' }];
  if (request.method !== 'POST' || url.pathname !== config.webhook.path) return [404, { error: 'not found' }];
  try {
    await verifyWebhookSignature({ method: request.method, path: url.pathname, query: url.search, headers: request.headers, body }, verifyOptions);
  } catch (error) {
    if (error instanceof SignatureVerificationError) return [401, { error: error.message }];
    throw error;
  }
  const { payload } = JSON.parse(body.toString('utf8')) as { payload: unknown[] };
  return [200, { verified: true, events: payload.length }];
}

function send(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});

server.listen(config.port, '127.0.0.1');
