import { CodedError } from '../shared/CodedError';

// The errors of the provider's API client, each with a stable `code`.

/** The provider answered with an error (problem+json, or anything else non-2xx). */
export class UpvestApiError extends CodedError {
  readonly code = 'upvest_api_error';

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly problem: { type?: string; title?: string; detail?: string },
    /** The provider's `upvest-request-id`: what its support asks for. */
    readonly requestId: string | undefined,
  ) {
    super(
      `${method} ${path} answered ${status}` +
        `${problem.title ? ` ${problem.title}` : ''}${problem.detail ? `: ${problem.detail}` : ''}` +
        `${requestId ? ` (upvest-request-id ${requestId})` : ''}`,
    );
  }

  /** The provider is overloaded or failing, not refusing this request: asking again may succeed. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }

  get type(): string | undefined {
    return this.problem.type;
  }

  get detail(): string | undefined {
    return this.problem.detail;
  }
}

/** No answer at all: connection failure or timeout, after the retries. */
export class UpvestApiUnavailableError extends CodedError {
  readonly code = 'upvest_api_unavailable';

  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`${method} ${path}: no answer from the Upvest API (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}
