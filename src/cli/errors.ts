import { CodedError } from '../shared/CodedError';

// The error of the CLI, with a stable `code`.

/** Bad arguments found inside a command; runCli prints it with the usage and exits 2. */
export class UsageError extends CodedError {
  readonly code = 'usage';
}
