// The errors of the ingest, each with a stable `code`.

/** Postgres did not commit the delivery in time; nothing may be acknowledged, the provider must retry. */
export class IngestUnavailableError extends Error {
  readonly code = 'ingest_unavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IngestUnavailableError';
  }
}

/**
 * The payload's text could not be sliced into its elements. Classification parsed it first, so
 * this would be a bug; the delivery's body is then quarantined whole, with this as its reason.
 */
export class PayloadTextError extends Error {
  readonly code = 'payload_text_unsliceable';

  constructor(message: string) {
    super(message);
    this.name = 'PayloadTextError';
  }
}
