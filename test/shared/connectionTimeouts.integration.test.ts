import { once } from 'node:events';
import { Agent, get, IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { startTestService, TestService } from '../support/testService';

let harness: TestService;

beforeAll(async () => {
  harness = await startTestService({
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_TIMEOUT_CHECK_INTERVAL_MS: '1000',
    HTTP_KEEP_ALIVE_TIMEOUT_MS: '2000',
  });
});

afterAll(async () => {
  await harness.stop();
});

describe('connection timeouts', () => {
  it('closes a connection that sends nothing once the headers timeout has passed', async () => {
    const socket = connect(harness.service.port, '127.0.0.1');
    socket.on('error', () => undefined); // the service may reset it
    socket.resume(); // reads the service's answer (408) and end, without which it never closes
    await once(socket, 'connect');

    await once(socket, 'close'); // the test's timeout is the deadline
  });

  it('advertises the configured keep-alive timeout and closes the idle connection after it', async () => {
    const agent = new Agent({ keepAlive: true });
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        get(`${harness.baseUrl}/healthz`, { agent }, resolve).on('error', reject);
      });
      const closed = once(response.socket, 'close');
      response.resume();

      expect(response.headers['keep-alive']).toBe('timeout=2');
      await closed;
    } finally {
      agent.destroy();
    }
  });
});
