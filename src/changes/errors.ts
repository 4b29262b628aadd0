import { CodedError } from '../shared/CodedError';

// The error of the change feed, with a stable `code`.

/** A cursor this service did not issue, or one that was altered. */
export class InvalidCursorError extends CodedError {
  readonly code = 'invalid_cursor';

  constructor() {
    super('The cursor is not one this API issued.');
  }
}
