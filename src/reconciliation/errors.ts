import { CodedError } from '../shared/CodedError';

// The errors of reconciliation, each with a stable `code`.

/**
 * A run stopped because the provider is unavailable (no answer, 429 or 5xx after the client's
 * retries): asking it about the next payment would only wait through the same retries again.
 */
export class ReconciliationInterruptedError extends CodedError {
  readonly code = 'reconciliation_interrupted';

  constructor(checked: number, stale: number, cause: Error) {
    super(`reconciliation stopped after ${checked} of ${stale} payments: ${cause.message}`, { cause });
  }
}
