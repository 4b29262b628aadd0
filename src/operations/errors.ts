import { NotFoundError, OperationRefusedError } from '../shared/CodedError';

// The errors of the operations, each with a stable `code`. The admin API answers a NotFoundError
// with 404 and an OperationRefusedError with 409; the CLI exits 3 and 1. The message is what both
// show the operator.

export class JobNotFoundError extends NotFoundError {
  readonly code = 'job_not_found';

  constructor(id: string) {
    super(`No job with id ${id}.`);
  }
}

export class QuarantinedPayloadNotFoundError extends NotFoundError {
  readonly code = 'quarantined_payload_not_found';

  constructor(id: bigint) {
    super(`No quarantined payload with id ${id}.`);
  }
}

/** A payment is re-projected from its events: without any, there is nothing to rebuild it from. */
export class PaymentEventsNotFoundError extends NotFoundError {
  readonly code = 'payment_events_not_found';

  /** `kind`: as the read API's paths name it (withdrawals, direct-debits). */
  constructor(kind: string, id: string) {
    super(`No events of ${kind} ${id} in webhook_events; nothing rebuilt.`);
  }
}

export class JobNotFailedError extends OperationRefusedError {
  readonly code = 'job_not_failed';
  readonly title = 'Job not failed';

  constructor(id: string) {
    super(`Job ${id} is not in the failed state.`);
  }
}

/** Only the job of one event can be set aside into quarantine; a batch job is retried instead. */
export class NotAnEventJobError extends OperationRefusedError {
  readonly code = 'job_not_an_event';
  readonly title = 'Not an event job';

  constructor(id: string) {
    super(`Job ${id} is not the job of one event; retry it instead.`);
  }
}

export class EventProjectedError extends OperationRefusedError {
  readonly code = 'event_projected';
  readonly title = 'Event projected';

  constructor(id: string) {
    super(`The event of job ${id} has been projected meanwhile; retry the job to clear it.`);
  }
}
