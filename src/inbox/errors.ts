import { CodedError } from '../shared/CodedError';

// The error of the inbox, with a stable `code`.

/** A delivery still waited for its statement when its answer was due: it was answered 503 and is dropped, not written. */
export class CommitDeadlineError extends CodedError {
  readonly code = 'commit_deadline_passed';

  constructor() {
    super('not committed before the deadline');
  }
}
