import { Counter } from 'prom-client';
import { MetricsRegistry } from './MetricsRegistry';

/** The dependencies whose failures are counted. */
export type Dependency = 'postgres' | 'redis';

/**
 * upvest_dependency_errors_total: counted wherever a dependency fails (a delivery answered 503, a
 * projection batch, a readiness check, a Redis connection), so it lives with the registry rather
 * than with any one of those modules.
 */
export class DependencyErrors {
  private readonly counter: Counter<'dependency'>;

  constructor(metrics: MetricsRegistry) {
    this.counter = metrics.counter(
      'upvest_dependency_errors_total',
      'Errors of Redis connections and jobs Redis did not take, and failed Postgres operations (deliveries answered 503, projection batches and reads, readiness checks).',
      ['dependency'],
      [{ dependency: 'postgres' }, { dependency: 'redis' }],
    );
  }

  /** One failed operation, or one connection error, of `dependency`. */
  dependencyError(dependency: Dependency): void {
    this.counter.inc({ dependency });
  }
}
