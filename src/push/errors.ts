import { CodedError, NotFoundError, OperationRefusedError } from '../shared/CodedError';

// The errors of the push, each with a stable `code`.

/** Not a Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 bytes. Never quotes the secret. */
export class InvalidSigningSecretError extends CodedError {
  readonly code = 'invalid_signing_secret';

  constructor(why: string) {
    super(`Not a signing secret (whsec_ and the base64 of 24 to 64 bytes): ${why}.`);
  }
}

/** A subscriber's address that the push does not connect to: loopback, private, link-local, metadata… */
export class RefusedTargetError extends CodedError {
  readonly code = 'refused_target';

  constructor(
    readonly address: string,
    readonly range: string,
  ) {
    super(`refused target ${address}: ${range} address; name it in PUSH_ALLOWED_TARGETS to allow it`);
  }
}

/** An entry of PUSH_ALLOWED_TARGETS that is neither an address nor a CIDR range. */
export class InvalidAllowListError extends CodedError {
  readonly code = 'invalid_allow_list';

  constructor(entry: string) {
    super(`"${entry}" is neither an IP address nor a CIDR range (e.g. 10.20.0.0/16, fd00::/8)`);
  }
}

export class SubscriptionNotFoundError extends NotFoundError {
  readonly code = 'subscription_not_found';

  constructor(readonly id: string) {
    super(`No subscription with id ${id}.`);
  }
}

/** A replay from a position the feed has not reached: the changes recorded up to there would never be sent. */
export class ReplayPositionAheadError extends OperationRefusedError {
  readonly code = 'replay_position_ahead';
  readonly title = 'Position ahead of the feed';

  constructor(
    readonly position: string,
    readonly end: string,
  ) {
    super(`The feed ends at ${end}; a replay from ${position} would skip every change recorded up to there. Replay from ${end} or earlier.`);
  }
}
