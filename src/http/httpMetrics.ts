import { Counter, Histogram } from 'prom-client';
import { MetricsRegistry } from '../metrics/MetricsRegistry';
import { SIGNATURE_FAILURE_REASONS, type SignatureFailureReason } from '../signature';

const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The HTTP edge's instruments: every answered request, and the deliveries refused for their signature. */
export class HttpInstruments {
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly signatureFailures: Counter<'reason'>;

  constructor(metrics: MetricsRegistry) {
    this.requestDuration = metrics.histogram(
      'upvest_http_request_duration_seconds',
      'HTTP requests by method, matched route pattern (or "unmatched") and status, until the answer was sent.',
      REQUEST_DURATION_BUCKETS,
      ['method', 'route', 'status'],
    );
    const reasons = SIGNATURE_FAILURE_REASONS.map((reason) => ({ reason }));
    this.signatureFailures = metrics.counter('upvest_webhook_signature_failures_total', 'Webhook deliveries refused with 401, by reason.', ['reason'], reasons);
  }

  /** `route`: the matched pattern, never the raw URL. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  signatureFailure(reason: SignatureFailureReason): void {
    this.signatureFailures.inc({ reason });
  }
}
