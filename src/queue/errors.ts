import { CodedError } from '../shared/CodedError';

// The errors of the queue, each with a stable `code`.

/** Redis does not take jobs now: not connected, or not answering within the wait. The inbox sweeper queues the events later. */
export class QueueUnavailableError extends CodedError {
  readonly code = 'queue_unavailable';
}

/** Redis may evict keys (maxmemory-policy other than noeviction), which BullMQ's bookkeeping does not survive. */
export class RedisMayEvictError extends CodedError {
  readonly code = 'redis_may_evict';

  constructor(policy: string, required: string) {
    super(`maxmemory-policy is ${policy}; BullMQ requires ${required}`);
  }
}
