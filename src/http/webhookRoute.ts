import { trace } from '@opentelemetry/api';
import { Express, Request, Response } from 'express';
import { DeliveryReceiver } from '../ingest/DeliveryReceiver';
import { IngestUnavailableError } from '../ingest/errors';
import { Logger } from '../logging/logger';
import { KeySourceUnavailableError, SignatureVerificationError, SignedMessage, VerifiedSignature, verifyWebhookSignature, VerifyOptions } from '../signature';
import { inSpan } from '../tracing/spans';
import { RequestBodyError } from './errors';
import { HttpInstruments } from './httpMetrics';
import { sendProblem, sendRetryLater } from './problem';
import { readRequestBody } from './readRequestBody';
import { beginRequest, inRequestContext, RequestContextOptions, requestIdOf, requestLoggerOf } from './requestContext';

export interface WebhookRouteOptions {
  path: string;
  bodyLimitBytes: number;
  /** What the provider signed (scheme, host, path before an ingress rewrote it). */
  publicUrl?: URL;
  retryAfterSeconds: number;
  /** Where the provider's keys come from (keyLookup) and the signature settings. */
  verification: VerifyOptions;
  receiver: DeliveryReceiver;
  /** Lines of a request go to its child logger (with its requestId); this one only outside requestContext(). */
  logger: Logger;
  metrics?: Pick<HttpInstruments, 'signatureFailure'>;
}

/** How many quarantine records a delivery's log line describes. */
const LOGGED_REASONS = 5;

/** The problem answers of bodies that cannot be taken, by status. */
const BODY_PROBLEMS: Record<RequestBodyError['status'], [type: string, title: string]> = {
  400: ['bad-request', 'Bad request'],
  413: ['body-too-large', 'Payload too large'],
  415: ['unsupported-content-encoding', 'Unsupported media type'],
};

/**
 * POST <path>: read the request, verify its signature, receive its content (DeliveryReceiver:
 * sort, commit to Postgres), answer; any other method there is a 405. Mounted first, and with only
 * what a delivery needs (its request context, its own read of the raw body): deliveries are most
 * of the traffic, and every layer in front of a route costs each request. The answers follow the
 * provider's delivery rules: it retries anything but 2xx forever and holds back every later
 * delivery meanwhile, so only a failed signature (401) and our own storage being down (503) are
 * refused. Content that is authentic but unusable is acknowledged and quarantined.
 */
export function mountWebhookRoute(app: Express, options: WebhookRouteOptions, requests: RequestContextOptions): void {
  // One delivery, one trace: the request's server span holds verification, the ingest write and the projection of its events.
  app.post(options.path, (request, response) => inRequestContext(beginRequest(requests, request, response), () => receiveWebhook(options, request, response)));
  app.all(options.path, (request, response) =>
    inRequestContext(beginRequest(requests, request, response), () => {
      response.setHeader('Allow', 'POST');
      sendProblem(response, 405, 'method-not-allowed', 'Method not allowed', `${request.method} is not allowed here; webhooks are delivered with POST.`);
    }),
  );
}

async function receiveWebhook(options: WebhookRouteOptions, request: Request, response: Response): Promise<void> {
  const logger = requestLoggerOf(response, options.logger);
  // The request's, with tracing on; its attributes are counts and outcomes, never content, signatures or tokens.
  const span = trace.getActiveSpan();
  let body: Buffer;
  try {
    body = await readRequestBody(request, options.bodyLimitBytes);
  } catch (error) {
    if (!(error instanceof RequestBodyError)) throw error;
    logger.warn(error.status === 413 ? 'webhook body too large' : 'webhook body refused', { reason: error.code, limit: options.bodyLimitBytes });
    const [type, title] = BODY_PROBLEMS[error.status];
    sendProblem(response, error.status, type, title, error.message);
    return;
  }
  const requestId = requestIdOf(response);
  const receivedAt = new Date();

  let verified: VerifiedSignature;
  try {
    verified = await inSpan('verify signature', {}, () => verifyWebhookSignature({ ...signedParts(request, options.publicUrl), body }, options.verification));
  } catch (error) {
    if (error instanceof KeySourceUnavailableError) {
      span?.setAttribute('webhook.outcome', 'keys-unavailable');
      logger.error('webhook not verified, asking the provider to retry', { error: error.message });
      sendRetryLater(response, options.retryAfterSeconds, 'verification-keys-unavailable', 'Verification keys unavailable', 'The signature cannot be checked yet; retry later.');
      return;
    }
    if (!(error instanceof SignatureVerificationError)) throw error;
    span?.setAttribute('webhook.outcome', `signature-${error.reason}`);
    options.metrics?.signatureFailure(error.reason);
    logger.warn('webhook signature rejected', { reason: error.reason, detail: error.message });
    sendProblem(response, 401, `signature-${error.reason.replace(/_/g, '-')}`, 'Signature verification failed', error.message);
    return;
  }

  try {
    const { counts, quarantined } = await inSpan('ingest', {}, () => options.receiver.receive(body, { requestId, receivedAt }));
    span?.setAttributes({ 'webhook.outcome': 'accepted', 'webhook.events.accepted': counts.accepted, 'webhook.events.duplicate': counts.duplicate, 'webhook.events.ignored': counts.ignored, 'webhook.events.quarantined': counts.quarantined });
    sendJson(response, 200, counts);
    // One line per delivery, however much it holds; content quarantined before (a retried delivery) is not logged again.
    if (quarantined.length > 0) {
      logger.warn('webhook content quarantined', {
        records: quarantined.length,
        events: quarantined.reduce((sum, item) => sum + (item.elements ?? 1), 0),
        reasons: quarantined.slice(0, LOGGED_REASONS).map(({ reason, eventId, eventType }) => ({ reason, eventId, eventType })),
      });
    }
    logger.info('webhook accepted', { keyId: verified.keyId, bytes: body.length, ...counts });
  } catch (error) {
    if (!(error instanceof IngestUnavailableError)) throw error;
    span?.setAttribute('webhook.outcome', 'storage-unavailable');
    logger.error('webhook not committed, asking the provider to retry', { error: error.message });
    sendRetryLater(response, options.retryAfterSeconds, 'storage-unavailable', 'Storage unavailable', 'The events could not be committed; retry later.');
  }
}

/** The request as the provider signed it: path and authority come from configuration, not from the Host header. */
function signedParts(request: Request, publicUrl: URL | undefined): SignedMessage {
  // The request target as sent, not re-encoded: that is what the provider signed.
  const queryStart = request.originalUrl.indexOf('?');
  const path = queryStart === -1 ? request.originalUrl : request.originalUrl.slice(0, queryStart);
  const query = queryStart === -1 || queryStart === request.originalUrl.length - 1 ? '' : request.originalUrl.slice(queryStart);
  return {
    method: request.method,
    path: publicUrl?.pathname ?? path,
    query,
    authority: publicUrl?.host,
    scheme: publicUrl?.protocol.slice(0, -1),
    headers: request.headers,
  };
}

/** A JSON answer written at once, headers and body: the hot path of every delivery. */
function sendJson(response: Response, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
