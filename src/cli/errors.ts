// The error of the CLI, with a stable `code`.

/** Bad arguments found inside a command; runCli prints it with the usage and exits 2. */
export class UsageError extends Error {
  readonly code = 'usage';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
