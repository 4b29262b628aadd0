import { CodedError } from '../shared/CodedError';

// The errors of the HTTP edge, each with a stable `code`.

/** A dependency did not answer its readiness check in time; /readyz shows this message for it. */
export class ReadinessTimeoutError extends CodedError {
  readonly code = 'readiness_timeout';

  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** A request body that cannot be taken: too large, in a content coding not supported, or broken; `status` is the answer. */
export class RequestBodyError extends CodedError {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: 'body_too_large' | 'unsupported_content_encoding' | 'undecodable_body',
    message: string,
  ) {
    super(message);
  }
}
