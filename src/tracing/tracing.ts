import { context, propagation, trace } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { setTracingOn } from './spans';

export const DEFAULT_SERVICE_NAME = 'upvest-webhook-receiver';

/** The process's tracer provider, once started. */
export interface Tracing {
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and unregisters the provider; spans started afterwards are no-ops again. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go instead of OTLP (a test's in-memory exporter); tracing is then on whatever the environment says. */
  exporter?: SpanExporter;
}

/**
 * Registers the tracer provider of the process, when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; the exporter and the sampler (OTEL_TRACES_SAMPLER)
 * read the rest of the standard OTEL_* variables themselves. Otherwise nothing is registered, the
 * SDK is not even loaded (it costs memory in every process), and the code's spans are not created.
 * Call it once, before the service starts.
 */
export async function startTracing(options: TracingOptions = {}, environment: NodeJS.ProcessEnv = process.env): Promise<Tracing | undefined> {
  const endpoint = environment.OTEL_EXPORTER_OTLP_ENDPOINT || environment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (options.exporter === undefined && !endpoint) return undefined;
  const [{ OTLPTraceExporter }, { defaultResource, resourceFromAttributes }, { BatchSpanProcessor }, { NodeTracerProvider }, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: environment.OTEL_SERVICE_NAME || DEFAULT_SERVICE_NAME })),
    spanProcessors: [new BatchSpanProcessor(options.exporter ?? new OTLPTraceExporter())],
  });
  // Also installs the W3C trace context propagator and the async context manager.
  provider.register();
  setTracingOn(true);
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      setTracingOn(false);
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
