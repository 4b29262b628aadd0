import { Context, context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, Span, SpanKind, SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';

/** W3C trace context (traceparent, tracestate) as a job carries it. */
export type TraceCarrier = Record<string, string>;

// A proxy: spans are no-ops until startTracing() registers a provider, and then are recorded.
const tracer = trace.getTracer('upvest-webhook-receiver');

/** Set by startTracing() and its shutdown: while off, the helpers below create no span at all. */
let tracingOn = false;

/** What a span's work gets while tracing is off: its calls do nothing. */
const NOT_RECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function setTracingOn(on: boolean): void {
  tracingOn = on;
}

/**
 * Runs `work` in a new active span (a child of `parent`, by default of the active one) and ends
 * it. A failure marks the span with the error's stable code or class name only: messages can
 * quote content.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  // Untraced work pays for no span, context switch or closure: it runs on the hot path of every delivery.
  if (!tracingOn) return work(NOT_RECORDED);
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorCodeOf(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active trace context, to carry across the queue; undefined when tracing is off. */
export function activeTraceCarrier(): TraceCarrier | undefined {
  if (!tracingOn) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The trace context a job carried, for the spans of its work; the root context without one. */
export function contextOf(carrier: TraceCarrier | undefined): Context {
  return carrier === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, carrier);
}

function errorCodeOf(error: unknown): string {
  if (!(error instanceof Error)) return 'error';
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? code : error.name;
}

/** A span of an HTTP request this service answers, started with the request, ended by `end` once it is answered. */
export interface ServerSpan {
  /** The request's context: the span, as a child of the caller's trace when the request carried one. */
  context: Context;
  span: Span;
}

/**
 * Starts the span of an incoming HTTP request, continuing the caller's trace when its headers carry
 * W3C trace context (traceparent, tracestate: an ingress with tracing adds them). Undefined when
 * tracing is off, so that an untraced request pays for nothing more.
 */
export function startServerSpan(method: string, headers: Record<string, string | string[] | undefined>): ServerSpan | undefined {
  if (!tracingOn) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } }, parent);
  if (!span.isRecording()) return undefined;
  return { context: trace.setSpan(parent, span), span };
}

/**
 * Ends a server span once its request is answered: named after the matched route pattern (never
 * the raw URL: it may hold ids and a query), with the status code; a 5xx marks it as an error.
 */
export function endServerSpan(span: Span, method: string, route: string | undefined, status: number): void {
  if (route !== undefined) span.updateName(`${method} ${route}`).setAttribute(ATTR_HTTP_ROUTE, route);
  span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
