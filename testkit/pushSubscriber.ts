import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';

/**
 * A subscriber of the push, as a process of its own (started by PushSubscriberProcess): it
 * verifies each message with the official `standardwebhooks` package and records it. How it
 * answers is set through PUT /control; GET /received lists what arrived.
 *
 *   POST /hook        the push target
 *   PUT  /control     {"secrets": [...], "failEventIds": [...], "delayMs": 0, "hang": false}
 *   GET  /received    every message received, in arrival order
 *   GET  /healthz     200
 *
 * SUBSCRIBER_VERIFY=off skips verification and recording: GET /received then says how many
 * arrived, and when the first and the last did (the bench's throughput).
 */

export interface SubscriberControl {
  /** Secrets a message may be signed with (whsec_…); each one that verifies it is recorded. */
  secrets: string[];
  /** Changes (by their event id) answered 500. */
  failEventIds: string[];
  /** Wait before answering. */
  delayMs: number;
  /** Never answer. */
  hang: boolean;
}

export interface ReceivedMessage {
  webhookId: string;
  webhookTimestamp: string;
  /** Indexes into the control's secrets that verified the message. */
  verifiedBy: number[];
  signatures: number;
  traceparent: string | undefined;
  /** What it answered. */
  status: number;
  /** When it arrived: epoch milliseconds, to the microsecond (performance.timeOrigin + performance.now()). */
  receivedAt: number;
  body: { type: string; timestamp: string; data: Record<string, unknown> & { event_id: string; payment_id: string; status: string } };
}

const verifying = process.env.SUBSCRIBER_VERIFY !== 'off';
let control: SubscriberControl = { secrets: [], failEventIds: [], delayMs: 0, hang: false };
const received: ReceivedMessage[] = [];
let count = 0;
let firstAt: number | undefined;
let lastAt: number | undefined;

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function verifiedBy(body: string, headers: http.IncomingHttpHeaders): number[] {
  const given = {
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  };
  return control.secrets.flatMap((secret, index) => {
    try {
      new Webhook(secret).verify(body, given);
      return [index];
    } catch {
      return [];
    }
  });
}

async function receive(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const text = await readBody(request);
  const receivedAt = performance.timeOrigin + performance.now();
  count += 1;
  firstAt ??= receivedAt;
  lastAt = receivedAt;
  if (!verifying) {
    response.writeHead(204).end();
    return;
  }
  if (control.hang) return;
  if (control.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, control.delayMs));
  const body = JSON.parse(text) as ReceivedMessage['body'];
  const by = verifiedBy(text, request.headers);
  const status = by.length === 0 ? 401 : control.failEventIds.includes(body.data.event_id) ? 500 : 204;
  received.push({
    webhookId: String(request.headers['webhook-id']),
    webhookTimestamp: String(request.headers['webhook-timestamp']),
    verifiedBy: by,
    signatures: String(request.headers['webhook-signature']).split(' ').length,
    traceparent: request.headers.traceparent as string | undefined,
    status,
    receivedAt,
    body,
  });
  response.writeHead(status).end(status === 204 ? undefined : 'no');
}

const server = http.createServer((request, response) => {
  const route = `${request.method} ${request.url?.split('?')[0]}`;
  const answer = (status: number, value?: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(value === undefined ? undefined : JSON.stringify(value));
  if (route === 'POST /hook') {
    receive(request, response).catch(() => answer(400));
  } else if (route === 'PUT /control') {
    readBody(request).then((text) => {
      control = { ...control, ...(JSON.parse(text) as Partial<SubscriberControl>) };
      answer(200, control);
    });
  } else if (route === 'GET /received') {
    answer(200, { count, firstAt, lastAt, received });
  } else if (route === 'GET /healthz') {
    answer(200, { ok: true });
  } else {
    answer(404);
  }
});
server.keepAliveTimeout = 70_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
