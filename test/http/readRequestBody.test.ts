import { once } from 'node:events';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { RequestBodyError } from '../../src/http/errors';
import { readRequestBody } from '../../src/http/readRequestBody';

const LIMIT = 1024;

/** A server that answers each request with what readRequestBody made of its body: its length, or the error's status and code. */
async function bodyServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    readRequestBody(request, LIMIT).then(
      (body) => response.end(JSON.stringify({ length: body.length, text: body.toString('utf8').slice(0, 20) })),
      (error: unknown) => {
        response.statusCode = error instanceof RequestBodyError ? error.status : 500;
        response.end(JSON.stringify({ code: error instanceof RequestBodyError ? error.code : String(error) }));
      },
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('readRequestBody', () => {
  let server: { url: string; close(): Promise<void> };
  const post = (body: Buffer | string, headers: Record<string, string> = {}) => fetch(server.url, { method: 'POST', body, headers });

  beforeAll(async () => {
    server = await bodyServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('reads the body as it was sent', async () => {
    const response = await post('{"payload":[]}');
    expect(await response.json()).toEqual({ length: 14, text: '{"payload":[]}' });
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('decodes a body in %s, as the body parser before it did', async (coding, encode) => {
    const response = await post(encode(Buffer.from('{"payload":[1]}')), { 'content-encoding': coding });
    expect(await response.json()).toEqual({ length: 15, text: '{"payload":[1]}' });
  });

  it('refuses a content coding it cannot decode with 415, and one that does not decode with 400', async () => {
    const unknown = await post('x', { 'content-encoding': 'compress' });
    expect([unknown.status, await unknown.json()]).toEqual([415, { code: 'unsupported_content_encoding' }]);
    const broken = await post('not gzip at all', { 'content-encoding': 'gzip' });
    expect([broken.status, await broken.json()]).toEqual([400, { code: 'undecodable_body' }]);
  });

  it('refuses a body over the limit with 413, declared or streamed, and after decoding', async () => {
    const declared = await post('x'.repeat(LIMIT + 1));
    expect([declared.status, await declared.json()]).toEqual([413, { code: 'body_too_large' }]);
    const streamed = await fetch(server.url, {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          for (let sent = 0; sent <= LIMIT; sent += 100) controller.enqueue(new TextEncoder().encode('y'.repeat(100)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect([streamed.status, await streamed.json()]).toEqual([413, { code: 'body_too_large' }]);
    const inflated = await post(gzipSync(Buffer.from('z'.repeat(LIMIT * 10))), { 'content-encoding': 'gzip' });
    expect([inflated.status, await inflated.json()]).toEqual([413, { code: 'body_too_large' }]);
  });

  it('reads a body at the limit', async () => {
    expect(await (await post('x'.repeat(LIMIT))).json()).toMatchObject({ length: LIMIT });
  });

  it('keeps the connection usable for the next request after refusing a body as too large', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const request = http.request(server.url, { method: 'POST', agent }, (response) => {
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode as number, socket: request.socket }));
        });
        request.on('error', reject);
        request.end(body);
      });
    try {
      const refused = await send('x'.repeat(LIMIT * 3));
      const next = await send('{"payload":[]}');
      expect([refused.status, next.status]).toEqual([413, 200]);
      expect(next.socket).toBe(refused.socket);
    } finally {
      agent.destroy();
    }
  });
});
