// The error of the change feed, with a stable `code`.

/** A cursor this service did not issue, or one that was altered. */
export class InvalidCursorError extends Error {
  readonly code = 'invalid_cursor';

  constructor() {
    super('The cursor is not one this API issued.');
    this.name = 'InvalidCursorError';
  }
}
