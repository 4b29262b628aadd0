import http from 'node:http';
import { AddressInfo } from 'node:net';
import { AttemptResult, EndpointOptions, SubscriberEndpoint } from '../../src/push/SubscriberEndpoint';
import { SubscriptionUrlPolicy } from '../../src/push/SubscriptionUrlPolicy';
import { TargetAllowList } from '../../src/push/targetAddresses';

const urlsWith = (allowHttp: boolean, allowed: string[]) => new SubscriptionUrlPolicy(allowHttp, new TargetAllowList(allowed));

const OPTIONS: EndpointOptions = {
  urls: urlsWith(true, ['127.0.0.1']),
  connectTimeoutMs: 2000,
  timeoutMs: 1000,
  maxSockets: 4,
};

let server: http.Server;
let base: string;
let handler: (request: http.IncomingMessage, response: http.ServerResponse) => void;
const seen: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ headers: request.headers, body });
      handler(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function post(path: string, options: Partial<EndpointOptions> = {}): Promise<AttemptResult> {
  const endpoint = new SubscriberEndpoint(`${base}${path}`, { ...OPTIONS, ...options });
  try {
    return await endpoint.post({ 'webhook-id': 'id-1' }, '{"type":"payment.status_changed"}');
  } finally {
    endpoint.close();
  }
}

describe('SubscriberEndpoint', () => {
  it('POSTs the JSON body with the given headers; any 2xx delivers', async () => {
    handler = (_, response) => response.writeHead(202).end('taken');
    expect(await post('/hook')).toEqual({ delivered: true, responseCode: 202 });
    const { headers, body } = seen.at(-1)!;
    expect(headers['webhook-id']).toBe('id-1');
    expect(headers['content-type']).toBe('application/json');
    expect(body).toBe('{"type":"payment.status_changed"}');
  });

  it('does not follow a redirect', async () => {
    handler = (_, response) => response.writeHead(307, { location: `${base}/elsewhere` }).end();
    const before = seen.length;
    expect(await post('/hook')).toMatchObject({ delivered: false, responseCode: 307, reason: 'status_3xx' });
    expect(seen.length).toBe(before + 1);
  });

  it('says what a refusing subscriber answered, at most a few KB of it', async () => {
    handler = (_, response) => response.writeHead(500).end(`broken\n${'x'.repeat(100_000)}`);
    const result = await post('/hook');
    expect(result).toMatchObject({ delivered: false, responseCode: 500, reason: 'status_5xx' });
    expect(!result.delivered && result.error).toMatch(/^HTTP 500: broken x+$/);
    expect(!result.delivered && result.error.length).toBeLessThanOrEqual(200);
    handler = (_, response) => response.writeHead(404).end();
    expect(await post('/hook')).toMatchObject({ delivered: false, responseCode: 404, reason: 'status_4xx' });
  });

  it('gives up on a subscriber that does not answer in time', async () => {
    handler = () => undefined;
    const started = Date.now();
    expect(await post('/hook')).toMatchObject({ delivered: false, responseCode: null, reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('counts a closed port as a connection failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const endpoint = new SubscriberEndpoint(`http://127.0.0.1:${port}/hook`, OPTIONS);
    expect(await endpoint.post({}, '{}')).toMatchObject({ delivered: false, reason: 'connection' });
    endpoint.close();
  });

  it('refuses http:// where only https is allowed, and internal addresses not allowed, without connecting', async () => {
    const before = seen.length;
    expect(await post('/hook', { urls: urlsWith(false, ['127.0.0.1']) })).toMatchObject({ delivered: false, reason: 'insecure_url' });
    expect(await post('/hook', { urls: urlsWith(true, []) })).toMatchObject({ delivered: false, reason: 'refused_target' });
    const metadata = new SubscriberEndpoint('https://169.254.169.254/latest/meta-data/', OPTIONS);
    expect(await metadata.post({}, '{}')).toMatchObject({ delivered: false, reason: 'refused_target' });
    metadata.close();
    expect(seen.length).toBe(before);
  });
});
