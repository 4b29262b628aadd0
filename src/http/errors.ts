import { CodedError } from '../shared/CodedError';

// The error of the HTTP edge, with a stable `code`.

/** A dependency did not answer its readiness check in time; /readyz shows this message for it. */
export class ReadinessTimeoutError extends CodedError {
  readonly code = 'readiness_timeout';

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}
