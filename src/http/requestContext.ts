import { randomUUID } from 'node:crypto';
import { Context, context } from '@opentelemetry/api';
import { Request, RequestHandler, Response } from 'express';
import { Logger } from '../logging/logger';
import { endServerSpan, startServerSpan } from '../tracing/spans';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The label of requests that matched no route: raw paths would make the metric's series unbounded. */
const UNMATCHED_ROUTE = 'unmatched';

export interface RequestContextOptions {
  logger: Logger;
  /** Told about every answered request; the route is the matched pattern, never the raw URL. */
  onRequestFinished?(method: string, route: string, status: number, seconds: number): void;
}

/**
 * What every request gets before it is handled: its id (the ingress's x-request-id when it is a
 * plain token, else a new one, echoed back) and a child logger that puts the id on every line; it
 * is timed, and once the answer is sent, reported and logged at level http. Once shutdown began,
 * its answer closes the connection: a keep-alive connection that keeps carrying requests would
 * otherwise hold server.close() open until the shutdown timeout. With tracing on, it is a server
 * span that continues the caller's trace: the answer is its context, in which to handle it.
 */
export function beginRequest(options: RequestContextOptions, request: Request, response: Response): Context | undefined {
  const startedAt = performance.now();
  if (request.app.locals.shuttingDown) response.setHeader('Connection', 'close');
  const incoming = request.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const requestLogger = options.logger.child({ requestId });
  response.locals.requestId = requestId;
  response.locals.logger = requestLogger;
  response.setHeader('x-request-id', requestId);
  response.once('finish', () => {
    const route = routeOf(request) ?? UNMATCHED_ROUTE;
    const seconds = (performance.now() - startedAt) / 1000;
    options.onRequestFinished?.(request.method, route, response.statusCode, seconds);
    if (requestLogger.isLevelEnabled('http')) {
      requestLogger.http('request finished', { method: request.method, route, status: response.statusCode, durationMs: Math.round(seconds * 1000) });
    }
  });
  const traced = startServerSpan(request.method, request.headers);
  if (traced === undefined) return undefined;
  // Also for a request the client gave up on: 'close' comes after 'finish', or without it.
  response.once('close', () => endServerSpan(traced.span, request.method, routeOf(request), response.statusCode));
  // Handlers that run from the request's stream events (a body being read) run in the span too.
  context.bind(traced.context, request);
  context.bind(traced.context, response);
  return traced.context;
}

/** Runs `handle` in the request's trace context, when it has one. */
export function inRequestContext<T>(traced: Context | undefined, handle: () => T): T {
  return traced === undefined ? handle() : context.with(traced, handle);
}

/** beginRequest() as the middleware in front of every route but the webhook's, which begins its requests itself. */
export function requestContext(options: RequestContextOptions): RequestHandler {
  return (request, response, next) => inRequestContext(beginRequest(options, request, response), next);
}

export function requestIdOf(response: Response): string {
  return response.locals.requestId as string;
}

/** The request's logger (its lines carry the requestId); `fallback` outside requestContext(). */
export function requestLoggerOf(response: Response, fallback: Logger): Logger {
  return (response.locals.logger as Logger | undefined) ?? fallback;
}

/** The matched route pattern, with the mount path of its router; undefined when no route matched. */
function routeOf(request: Request): string | undefined {
  const path: unknown = request.route?.path;
  return path === undefined ? undefined : `${request.baseUrl}${String(path)}`;
}
