import { PushSubscriptions } from '../push/PushSubscriptions';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { FailedJobQuarantiner } from './FailedJobQuarantiner';
import { FailedJobs } from './FailedJobs';
import { PaymentReprojector } from './PaymentReprojector';
import { QuarantineReprocessor } from './QuarantineReprocessor';

/**
 * What an operator can do, by the admin API or the CLI alike: both are thin adapters over these,
 * and validate their input with the schemas of ./operationInputs.
 */
export interface Operations {
  /** The events queue's failed jobs: list, inspect, retry. */
  failedJobs: FailedJobs;
  /** Moves the event of a failed job that cannot succeed into quarantine. */
  failedJobQuarantiner: FailedJobQuarantiner;
  /** Lists and shows quarantined content. */
  quarantineStore: QuarantineStore;
  /** Runs quarantined content through the ingest again. */
  quarantineReprocessor: QuarantineReprocessor;
  /** Rebuilds a payment's row from its events. */
  paymentReprojector: PaymentReprojector;
  /** Push subscriptions: add, change, rotate the secret, replay, and their deliveries. */
  subscriptions: PushSubscriptions;
  /** Which URLs a subscription may be given. */
  subscriptionUrls: SubscriptionUrlPolicy;
}
