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
