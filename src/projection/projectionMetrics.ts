import { Counter, Histogram } from 'prom-client';
import { DependencyErrors } from '../metrics/DependencyErrors';
import { MetricsRegistry } from '../metrics/MetricsRegistry';

/** Told about every batch write; kept narrow so that the projection does not depend on the metrics library. */
export interface ProjectionBatchMetrics {
  /** Once per applied or superseded event, after its batch committed: seconds since the event's created_at. */
  projectionLagSeconds(seconds: number): void;
  /** A batch write failed for a reason other than bad data: the database is unreachable, slow or failing. */
  dependencyError(dependency: 'postgres'): void;
}

/** Completed, retried (failed, another attempt follows) or failed for good. */
export type JobAttemptOutcome = 'completed' | 'retried' | 'failed';

const JOB_ATTEMPT_OUTCOMES: JobAttemptOutcome[] = ['completed', 'retried', 'failed'];

/** What the worker reports, besides what its batches report. */
export interface ProjectionMetrics extends ProjectionBatchMetrics {
  /** Once per job attempt. */
  jobAttempt(outcome: JobAttemptOutcome): void;
}

/** Event created_at → row committed: seconds for a live pipeline, minutes while it catches up. */
const PROJECTION_LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** The projection's instruments: job attempts by outcome, and the lag from an event's creation to its row. */
export class ProjectionInstruments implements ProjectionMetrics {
  private readonly jobAttempts: Counter<'outcome'>;
  private readonly lag: Histogram;

  constructor(
    metrics: MetricsRegistry,
    private readonly dependencyErrors: DependencyErrors,
  ) {
    this.jobAttempts = metrics.counter(
      'upvest_projection_job_attempts_total',
      'Attempts of projection jobs by outcome: completed, retried (failed, will be retried) or failed (failed for good).',
      ['outcome'],
      JOB_ATTEMPT_OUTCOMES.map((outcome) => ({ outcome })),
    );
    this.lag = metrics.histogram(
      'upvest_projection_lag_seconds',
      "From an event's created_at to the commit of the batch that projected it (applied or superseded events of webhooks).",
      PROJECTION_LAG_BUCKETS,
    );
  }

  jobAttempt(outcome: JobAttemptOutcome): void {
    this.jobAttempts.inc({ outcome });
  }

  projectionLagSeconds(seconds: number): void {
    this.lag.observe(seconds);
  }

  dependencyError(dependency: 'postgres'): void {
    this.dependencyErrors.dependencyError(dependency);
  }
}
