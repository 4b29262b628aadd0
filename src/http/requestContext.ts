import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
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
 * Gives every request its id (the ingress's x-request-id when it is a plain token, else a new one,
 * echoed back) and a child logger that puts the id on every line; times the request, and once
 * the answer is sent, reports it and logs it at level http. With tracing on, the request is a
 * server span that continues the caller's trace, and the handlers run in it.
 */
export function requestContext(options: RequestContextOptions): RequestHandler {
  const { logger, onRequestFinished } = options;
  return (request, response, next) => {
    const traced = startServerSpan(request.method, request.headers);
    const startedAt = performance.now();
    const incoming = request.get('x-request-id');
    const requestId = incoming !== undefined && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const requestLogger = logger.child({ requestId });
    response.locals.requestId = requestId;
    response.locals.logger = requestLogger;
    response.setHeader('x-request-id', requestId);
    response.once('finish', () => {
      const route = routeOf(request) ?? UNMATCHED_ROUTE;
      const seconds = (performance.now() - startedAt) / 1000;
      onRequestFinished?.(request.method, route, response.statusCode, seconds);
      if (requestLogger.isLevelEnabled('http')) {
        requestLogger.http('request finished', { method: request.method, route, status: response.statusCode, durationMs: Math.round(seconds * 1000) });
      }
    });
    if (traced === undefined) {
      next();
      return;
    }
    // Also for a request the client gave up on: 'close' comes after 'finish', or without it.
    response.once('close', () => endServerSpan(traced.span, request.method, routeOf(request), response.statusCode));
    // The handlers run in the span, also those that a body parser calls from the request's stream events.
    context.bind(traced.context, request);
    context.bind(traced.context, response);
    context.with(traced.context, next);
  };
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
