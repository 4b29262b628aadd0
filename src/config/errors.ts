import { CodedError } from '../shared/CodedError';

// The error of the configuration, with a stable `code`.

/** Every invalid environment variable, named in one message. */
export class ConfigError extends CodedError {
  readonly code = 'invalid_configuration';

  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}
