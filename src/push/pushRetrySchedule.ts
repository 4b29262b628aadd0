import { retryDelayMs } from '../shared/retryBackoff';

/** The first retry waits about this long; each further one twice as long… */
const FIRST_RETRY_MS = 10_000;
/** …up to an hour, and hourly from then on, for as long as the change is not delivered. */
const LONGEST_RETRY_MS = 60 * 60 * 1000;

/**
 * When a change whose delivery failed `attempts` times is tried again: exponential from 10 s,
 * capped at an hour, jittered into the upper half of each step so that the changes that failed
 * together (a subscriber that was down) do not all come back at once. Retries never end: after
 * PUSH_FAILING_AFTER_HOURS the subscription is marked failing, and the hourly retries go on.
 * docs/push.md#retries shows the schedule.
 */
export function pushRetryDelayMs(attempts: number, random: () => number = Math.random): number {
  return retryDelayMs(attempts, FIRST_RETRY_MS, LONGEST_RETRY_MS, random);
}
