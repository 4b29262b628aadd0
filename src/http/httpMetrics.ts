import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { SIGNATURE_FAILURE_REASONS, type SignatureFailureReason } from '../signature';

/** The HTTP edge's instruments: every answered request, and the deliveries refused for their signature. */
export class HttpInstruments {
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly signatureFailures: Counter<'reason'>;

  constructor(metrics: MetricsRegistry) {
    this.requestDuration = new Histogram({
      name: 'upvest_http_request_duration_seconds',
      help: 'HTTP requests by method, matched route pattern (or "unmatched") and status, until the answer was sent.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    this.signatureFailures = new Counter({
      name: 'upvest_webhook_signature_failures_total',
      help: 'Webhook deliveries refused with 401, by reason.',
      labelNames: ['reason'] as const,
      registers: [metrics.registry],
    });
    // The alert rate()s over it: the series exist from the start, at 0.
    for (const reason of SIGNATURE_FAILURE_REASONS) this.signatureFailures.inc({ reason }, 0);
  }

  /** `route`: the matched pattern, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  signatureFailure(reason: SignatureFailureReason): void {
    this.signatureFailures.inc({ reason });
  }
}
