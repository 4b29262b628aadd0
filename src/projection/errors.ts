// The errors of the projection, each with a stable `code`.

/**
 * The event cannot be projected however often it is retried (Postgres refuses its content); the
 * message says why. The worker gives it a job of its own, which fails for good.
 */
export class PermanentProjectionError extends Error {
  readonly code = 'permanent_projection';

  constructor(message: string) {
    super(message);
    this.name = 'PermanentProjectionError';
  }
}
