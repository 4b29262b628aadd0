import { Context, context, propagation, ROOT_CONTEXT, Span, SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';

/** W3C trace context (traceparent, tracestate) as a job carries it. */
export type TraceCarrier = Record<string, string>;

// A proxy: spans are no-ops until startTracing() registers a provider, and then are recorded.
const tracer = trace.getTracer('upvest-webhook-receiver');

/**
 * Runs `work` in a new active span (a child of `parent`, by default of the active one) and ends
 * it. A failure marks the span with the error's stable code or class name only: messages can
 * quote content.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
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
