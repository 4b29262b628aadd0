// The errors of the ingest, each with a stable `code`.

/** Postgres did not commit the delivery in time; nothing may be acknowledged, the provider must retry. */
export class IngestUnavailableError extends Error {
  readonly code = 'ingest_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestUnavailableError';
  }
}
