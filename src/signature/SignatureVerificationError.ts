export type SignatureFailureReason =
  | 'missing_header'
  | 'malformed_header'
  | 'unknown_key'
  | 'missing_digest'
  | 'digest_mismatch'
  | 'bad_signature'
  | 'created_in_future'
  | 'too_old'
  | 'expired'
  | 'unverifiable_component';

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
