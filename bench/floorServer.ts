import http from 'node:http';
import { Config, loadConfig } from '../src/config/config';
import { SignatureVerificationError, verifyWebhookSignature } from '../src/signature';

/** What a floor does with a delivery once it is verified and parsed; resolves with the body of the 200 answer. */
export type DeliveryStep = (bodyText: string, payload: unknown[]) => Promise<object>;

/**
 * The part every floor the service is compared against shares: a plain node:http server, one
 * process, that reads the body, verifies the signature exactly as the service does, parses the
 * JSON, then hands the delivery to the floor's own step and answers 200 with what it returns (500
 * if it throws). No Express, no validation of events. Configured like the service, through the
 * same environment variables and loadConfig, so that path, keys and signature options (v6, 60 s
 * clock skew, no maximum age) are the service's defaults and cannot drift from them.
 * GET /readyz answers 200 so that testkit/ServiceProcess.ts can wait for it like for the service.
 */
export function serveFloor(createDeliveryStep: (config: Config) => DeliveryStep): void {
  const config = loadConfig(process.env);
  const keys = config.webhook.verificationKeys;
  if (keys === undefined) throw new Error('UPVEST_WEBHOOK_JWKS is required');
  const verifyOptions = { keyLookup: keys.lookup, ...config.signature };
  const deliveryStep = createDeliveryStep(config);

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
    const bodyText = body.toString('utf8');
    const { payload } = JSON.parse(bodyText) as { payload: unknown[] };
    return [200, await deliveryStep(bodyText, payload)];
  }

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

  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });

  server.listen(config.port, '127.0.0.1');
}

function send(response: http.ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
