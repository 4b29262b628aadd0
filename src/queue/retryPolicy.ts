import { JobsOptions } from 'bullmq';
import { retryDelayMs } from '../shared/retryBackoff';

/** How often a projection job is tried (JOB_ATTEMPTS) and how long it waits in between (JOB_BACKOFF_*). */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
  backoffMaxMs: number;
}

const RETRY_BACKOFF_TYPE = 'capped-exponential-jitter';

/**
 * The options of every projection job: the policy's attempts, with its back-off by name. BullMQ
 * reads the attempts from the job and the back-off from the worker; both come from here.
 */
export function projectionJobOptions(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: RETRY_BACKOFF_TYPE },
    // Completed jobs go soon: the inbox in Postgres is the record.
    removeOnComplete: { age: 3600, count: 10000 },
    // Failed jobs stay, with their reason, until an operator retries them or sets them aside.
    removeOnFail: false,
  };
}

/** The worker's side of the policy: the capped, jittered delay before the next attempt. */
export function projectionBackoffStrategy(policy: RetryPolicy): (attemptsMade: number, type?: string) => number {
  return (attemptsMade, type) => (type === RETRY_BACKOFF_TYPE ? retryDelayMs(attemptsMade, policy.backoffMs, policy.backoffMaxMs) : -1);
}
