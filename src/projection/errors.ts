import { databaseFailureCause } from '../database/databaseErrors';
import { CodedError } from '../shared/CodedError';

// The errors of the projection, each with a stable `code`.

/**
 * The event cannot be projected however often it is retried (Postgres refuses its content); the
 * message says why. The worker gives it a job of its own, which fails for good.
 */
export class PermanentProjectionError extends CodedError {
  readonly code = 'permanent_projection';
}

/**
 * A job's attempt failed for a reason that may pass: the database (or something unforeseen). The
 * message is the short cause, which becomes the job's failure reason; `cause` is the original error.
 */
export class TransientProjectionError extends CodedError {
  readonly code = 'transient_projection';

  constructor(error: unknown) {
    super(databaseFailureCause(error), { cause: error });
    // BullMQ keeps the stack of a failed attempt: where an unforeseen error is to be traced.
    const { stack } = (error ?? {}) as { stack?: unknown };
    if (typeof stack === 'string') this.stack = stack;
  }
}
