import fs from 'node:fs';
import { PaymentEvent } from '../src/events/upvestEvents';
import { signWebhookRequest, SigningKey } from '../src/signature';

/** One webhook request signed ahead of time, as the load generator replays it. */
export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Signs one request per batch, the way Upvest signs webhooks (v6, P-521, DER). Signing costs
 * about as much as verifying, so it is done here, before any timed phase, and not by the load
 * generator. The signatures carry created=now and expires=now+5; they stay valid for the whole
 * run because the service by default neither enforces `expires` nor limits the age of `created`.
 */
export function signRequests(batches: PaymentEvent[][], key: SigningKey, path: string): SignedRequest[] {
  return batches.map((events) => signedRequest(Buffer.from(JSON.stringify({ payload: events }), 'utf8'), key, path));
}

/** One request of `body`, signed like signRequests signs. */
export function signedRequest(body: Buffer, key: SigningKey, path: string): SignedRequest {
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const signatureHeaders = signWebhookRequest({ method: 'POST', path, query: '', headers, body }, { key });
  return { headers: { ...headers, ...signatureHeaders }, body };
}

// The requests go to the load generator (another process) as a file, one JSON line per request.
// The bodies are ASCII JSON, so they survive the trip through a JSON string byte for byte.

export function writeRequestsFile(file: string, requests: SignedRequest[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const { headers, body } of requests) fs.writeSync(fd, `${JSON.stringify({ headers, body: body.toString('utf8') })}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

export function readRequestsFile(file: string): SignedRequest[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const { headers, body } = JSON.parse(line) as { headers: Record<string, string>; body: string };
      return { headers, body: Buffer.from(body, 'utf8') };
    });
}
