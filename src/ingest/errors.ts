import { CodedError } from '../shared/CodedError';

// The errors of the ingest, each with a stable `code`.

/** Postgres did not commit the delivery in time; nothing may be acknowledged, the provider must retry. */
export class IngestUnavailableError extends CodedError {
  readonly code = 'ingest_unavailable';
}

/**
 * The payload's text could not be sliced into its elements. Classification parsed it first, so
 * this would be a bug; the delivery's body is then quarantined whole, with this as its reason.
 */
export class PayloadTextError extends CodedError {
  readonly code = 'payload_text_unsliceable';
}
