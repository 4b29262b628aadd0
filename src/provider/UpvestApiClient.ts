import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Span, SpanKind } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';
import { Logger } from '../logging/logger';
import { retryDelayMs } from '../shared/retryBackoff';
import type { SigningKey } from '../signature';
import { inSpan } from '../tracing/spans';
import { AccessTokenCache, IssuedToken } from './AccessTokenCache';
import { RequestPacer } from './RequestPacer';
import { signApiRequest } from './signApiRequest';
import { UpvestApiError, UpvestApiUnavailableError } from './errors';

/** How to reach the provider's API: the tenant's credentials and the client's settings (the UPVEST_* variables). */
export interface UpvestApiClientOptions {
  baseUrl: URL;
  clientId: string;
  clientSecret: string;
  /** The tenant's own key, registered with Upvest: EC P-521 (or Ed25519). */
  signingKey: SigningKey;
  /** Per attempt, including reading the answer. */
  timeoutMs: number;
  /** Retries after the first attempt, for 429, 5xx and no answer. */
  maxRetries: number;
  retryBaseDelayMs: number;
  /** Longest wait between attempts; a Retry-After beyond it ends the retries. */
  retryMaxDelayMs: number;
  requestsPerSecond: number;
  logger: Logger;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface CallOptions {
  /** OAuth scopes the endpoint needs. */
  scopes: readonly string[];
  query?: Record<string, string | number | undefined>;
  json?: unknown;
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON, or undefined for an empty answer. */
  body: unknown;
  requestId: string | undefined;
}

interface Attempt {
  method: HttpMethod;
  path: string;
  query?: CallOptions['query'];
  body?: Buffer;
  contentType?: string;
  accessToken?: string;
}

const tokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

/**
 * Calls the Upvest Investment API: every request signed (v15), authorized with a cached token of
 * the scopes it needs, paced, timed out, and retried on 429/5xx or no answer with capped,
 * jittered back-off that honours Retry-After. A POST keeps its idempotency-key across retries,
 * so a retried create cannot happen twice. Errors are UpvestApiError or UpvestApiUnavailableError.
 */
export class UpvestApiClient {
  private readonly tokens: AccessTokenCache;
  private readonly pacer: RequestPacer;
  /** With a trailing slash, so that a base path (e.g. behind a proxy) is kept when paths are resolved. */
  private readonly base: URL;

  constructor(private readonly options: UpvestApiClientOptions) {
    this.tokens = new AccessTokenCache((scope) => this.issueToken(scope));
    this.pacer = new RequestPacer(options.requestsPerSecond);
    this.base = new URL(options.baseUrl.href.endsWith('/') ? options.baseUrl.href : `${options.baseUrl.href}/`);
  }

  async call(method: HttpMethod, path: string, options: CallOptions): Promise<ApiResponse> {
    const attempt = (accessToken: string): Attempt => ({
      method,
      path,
      query: options.query,
      accessToken,
      ...(options.json !== undefined && { body: Buffer.from(JSON.stringify(options.json)), contentType: 'application/json' }),
    });
    const token = await this.tokens.tokenFor(options.scopes);
    try {
      return await this.send(attempt(token));
    } catch (error) {
      // A token can be revoked before it expires: one retry with a fresh one.
      if (!(error instanceof UpvestApiError && error.status === 401)) throw error;
      this.tokens.invalidate(options.scopes, token);
      return this.send(attempt(await this.tokens.tokenFor(options.scopes)));
    }
  }

  private async issueToken(scope: string): Promise<IssuedToken> {
    const form = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      grant_type: 'client_credentials',
      scope,
    });
    const answer = await this.send({
      method: 'POST',
      path: '/auth/token',
      body: Buffer.from(form.toString()),
      contentType: 'application/x-www-form-urlencoded',
    });
    const parsed = tokenAnswer.safeParse(answer.body);
    if (!parsed.success) {
      throw new UpvestApiError('POST', '/auth/token', answer.status, { detail: 'the token answer has no access_token or expires_in' }, answer.requestId);
    }
    return { accessToken: parsed.data.access_token, expiresInSeconds: parsed.data.expires_in };
  }

  /** One span per request, its retries included; it names the method and the path, never the query, headers or body. */
  private send(attempt: Attempt): Promise<ApiResponse> {
    const attributes = { [ATTR_HTTP_REQUEST_METHOD]: attempt.method, [ATTR_URL_PATH]: attempt.path };
    return inSpan(`upvest api ${attempt.method}`, { kind: SpanKind.CLIENT, attributes }, (span) => this.sendWithRetries(attempt, span));
  }

  private async sendWithRetries(attempt: Attempt, span: Span): Promise<ApiResponse> {
    const idempotencyKey = attempt.method === 'POST' ? crypto.randomUUID() : undefined;
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      await this.pacer.waitForSlot();
      // Signed anew for each attempt (created/expires), outside the try: a signing failure is ours, not "no answer".
      const signed = await this.signedRequest(attempt, idempotencyKey);
      let failure: UpvestApiError | UpvestApiUnavailableError;
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(signed.url, {
          method: attempt.method,
          headers: signed.headers,
          body: attempt.body,
          redirect: 'error',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        span.setAttributes({ [ATTR_HTTP_RESPONSE_STATUS_CODE]: response.status, 'upvest.api.attempts': attemptNumber });
        if (response.ok) return await answerOf(attempt, response);
        const refusal = await apiErrorOf(attempt, response);
        if (!refusal.retryable) throw refusal;
        failure = refusal;
        retryAfterMs = retryAfterMsOf(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof UpvestApiError) throw error;
        failure = new UpvestApiUnavailableError(attempt.method, attempt.path, error);
      }
      const delayMs = retryAfterMs ?? retryDelayMs(attemptNumber, this.options.retryBaseDelayMs, this.options.retryMaxDelayMs);
      if (attemptNumber > this.options.maxRetries || delayMs > this.options.retryMaxDelayMs) throw failure;
      this.options.logger.warn('upvest api call failed, retrying', {
        method: attempt.method,
        path: attempt.path,
        attempt: attemptNumber,
        delayMs,
        error: failure.message,
      });
      await sleep(delayMs);
    }
  }

  private async signedRequest(attempt: Attempt, idempotencyKey: string | undefined): Promise<{ url: URL; headers: Record<string, string> }> {
    const url = new URL(attempt.path.replace(/^\//, ''), this.base);
    for (const [name, value] of Object.entries(attempt.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json',
      'upvest-client-id': this.options.clientId,
      'upvest-api-version': '1',
      'upvest-signature-version': '15',
      ...(attempt.accessToken !== undefined && { authorization: `Bearer ${attempt.accessToken}` }),
      ...(attempt.contentType !== undefined && { 'content-type': attempt.contentType }),
      ...(idempotencyKey !== undefined && { 'idempotency-key': idempotencyKey }),
    };
    return { url, headers: await signApiRequest({ method: attempt.method, url, headers, body: attempt.body }, this.options.signingKey) };
  }
}

async function answerOf(attempt: Attempt, response: Response): Promise<ApiResponse> {
  const text = await response.text();
  const requestId = response.headers.get('upvest-request-id') ?? undefined;
  if (text === '') return { status: response.status, body: undefined, requestId };
  try {
    return { status: response.status, body: JSON.parse(text), requestId };
  } catch {
    throw new UpvestApiError(attempt.method, attempt.path, response.status, { detail: 'the answer is not JSON' }, requestId);
  }
}

async function apiErrorOf(attempt: Attempt, response: Response): Promise<UpvestApiError> {
  const text = await response.text();
  let problem: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) problem = parsed as Record<string, unknown>;
  } catch {
    // Not problem+json (e.g. a proxy's HTML error page): the status says enough.
  }
  return new UpvestApiError(
    attempt.method,
    attempt.path,
    response.status,
    { type: stringOrUndefined(problem.type), title: stringOrUndefined(problem.title) ?? response.statusText, detail: stringOrUndefined(problem.detail) },
    response.headers.get('upvest-request-id') ?? stringOrUndefined(problem.request_id),
  );
}

// IMF-fixdate, the HTTP-date form servers send (RFC 9110 §5.6.7). Date.parse alone would also
// read garbage such as "1.5" as a date in 2001, which means "retry at once".
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMsOf(value: string | null, now: number = Date.now()): number | undefined {
  const trimmed = value?.trim() ?? '';
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!IMF_FIXDATE.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
