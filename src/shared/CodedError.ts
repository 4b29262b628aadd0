/**
 * An error with a stable `code`: what callers branch on and operators read (failure reasons, logs,
 * span status), while the message is for people and may change. Each module declares its own in
 * its errors.ts; the name is the class's.
 */
export abstract class CodedError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

// Two kinds that an operator's request can fail with, whichever module raises them: the admin API
// answers a NotFoundError with 404 and an OperationRefusedError with 409; the CLI exits 3 and 1.

/** What an operation was asked to act on does not exist. */
export abstract class NotFoundError extends CodedError {}

/** The operation does not apply to its target as the target stands now; nothing was changed. */
export abstract class OperationRefusedError extends CodedError {
  /** The refusal in a few words, e.g. the title of a problem answer. */
  abstract readonly title: string;
}
