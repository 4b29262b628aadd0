import { CodedError } from '../shared/CodedError';

// The errors of the metrics, each with a stable `code`.

/** A gauge's source (Redis, Postgres) did not answer during a scrape in time; its series are left out. */
export class ScrapeReadTimeoutError extends CodedError {
  readonly code = 'scrape_read_timeout';

  constructor(source: string, timeoutMs: number) {
    super(`no answer from ${source} within ${timeoutMs} ms`);
  }
}

/** The metrics server could not take its port (METRICS_PORT), e.g. another process holds it. */
export class MetricsPortUnavailableError extends CodedError {
  readonly code = 'metrics_port_unavailable';

  constructor(port: number, cause: Error) {
    super(`the metrics server cannot listen on port ${port}: ${cause.message}`, { cause });
  }
}
