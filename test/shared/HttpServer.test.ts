import { once } from 'node:events';
import { IncomingMessage, request, ServerResponse } from 'node:http';
import { HttpServer, HttpTimeouts } from '../../src/shared/HttpServer';
import { openStalledConnection } from '../support/stalledConnection';

const TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 60_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 65_000, timeoutCheckIntervalMs: 5_000 };

/** Reads the body, then answers with what `answer` resolves to. */
function answering(answer: () => Promise<number>) {
  return (incoming: IncomingMessage, response: ServerResponse) => {
    incoming.resume();
    incoming.on('end', () => {
      void answer().then((status) => {
        response.statusCode = status;
        response.end();
      });
    });
  };
}

/** The status of a POST of `body`, on a connection of its own. */
function statusOfPost(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, method: 'POST', agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    call.on('error', reject);
    call.end(body);
  });
}

describe('HttpServer', () => {
  let server: HttpServer;

  afterEach(async () => {
    await server.close();
  });

  it('waits on close for a request received in full to be answered', async () => {
    let release: (status: number) => void = () => undefined;
    const answered = new Promise<number>((resolve) => (release = resolve));
    let received: () => void = () => undefined;
    const receivedRequest = new Promise<void>((resolve) => (received = resolve));
    server = new HttpServer(
      answering(() => {
        received();
        return answered;
      }),
      TIMEOUTS,
    );
    const port = await server.listen(0);
    const status = statusOfPost(port, '{"a":1}');
    await receivedRequest;

    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release(200);

    await closing;
    expect(await status).toBe(200);
  });

  it.each([
    ['sends nothing', ''],
    ['stalls in the middle of the headers', 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty'],
    ['stalls in the middle of the body', 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789'],
  ])('drops on close a connection that %s', async (_, bytes) => {
    server = new HttpServer(answering(async () => 200), TIMEOUTS);
    const port = await server.listen(0);
    const socket = await openStalledConnection(port, bytes);
    const socketClosed = once(socket, 'close');

    await server.close(); // the test's timeout is the deadline
    await socketClosed;
  });

  it('closes a connection that sends nothing once the headers timeout has passed', async () => {
    server = new HttpServer(answering(async () => 200), {
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      keepAliveTimeoutMs: 1000,
      timeoutCheckIntervalMs: 200,
    });
    const port = await server.listen(0);
    const socket = await openStalledConnection(port, '');

    await once(socket, 'close'); // the test's timeout is the deadline
  });

  it('rejects listen on a port that is taken', async () => {
    server = new HttpServer(answering(async () => 200), TIMEOUTS);
    const port = await server.listen(0);
    const second = new HttpServer(answering(async () => 200), TIMEOUTS);

    await expect(second.listen(port)).rejects.toThrow(/EADDRINUSE/);
  });
});
