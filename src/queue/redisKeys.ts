/**
 * The one owner of the Redis names this service uses. Every key lies under `<REDIS_PREFIX>:`,
 * inside one of these BullMQ queues (BullMQ names the keys within a queue, as its QueueKeys
 * does), so that a prefix separates deployments and one pattern finds all of a deployment's keys.
 */

/** The one queue between the inbox and the projection worker. */
export const EVENTS_QUEUE_NAME = 'upvest-events';

/** The queue of the periodic reconciliation runs. */
export const RECONCILIATION_QUEUE_NAME = 'upvest-reconciliation';

/** The job scheduler of the periodic reconciliation: one per deployment, whatever the number of workers. */
export const RECONCILIATION_SCHEDULER_ID = 'reconcile-stale-payments';

/** Matches every key of the deployment with this prefix, for SCAN … MATCH. */
export function redisKeyPattern(prefix: string): string {
  return `${prefix}:*`;
}
