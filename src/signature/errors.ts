/**
 * The errors of webhook signature verification. A SignatureVerificationError's `reason` is its
 * stable code; the reasons are listed once here, for the metrics to pre-register.
 */
export const SIGNATURE_FAILURE_REASONS = [
  'missing_header',
  'malformed_header',
  'unknown_key',
  'missing_digest',
  'digest_mismatch',
  'bad_signature',
  'created_in_future',
  'too_old',
  'expired',
  'unverifiable_component',
] as const;

export type SignatureFailureReason = (typeof SIGNATURE_FAILURE_REASONS)[number];

/**
 * Why a webhook request failed authentication. `reason` is for code and metrics; `message` is a
 * human detail safe to return to the caller (it never contains signature values or body content).
 */
export class SignatureVerificationError extends Error {
  constructor(
    readonly reason: SignatureFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureVerificationError';
  }
}

/**
 * The key lookup cannot answer now, so the signature can be checked neither way: the request is
 * to be retried later, not rejected.
 */
export class KeySourceUnavailableError extends Error {
  readonly code = 'key_source_unavailable';

  constructor(message: string) {
    super(message);
    this.name = 'KeySourceUnavailableError';
  }
}
