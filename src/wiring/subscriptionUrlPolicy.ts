import { Config } from '../config/config';
import { SubscriptionUrlPolicy } from '../push/SubscriptionUrlPolicy';

/** https only in production unless PUSH_ALLOW_HTTP; internal addresses only as PUSH_ALLOWED_TARGETS names them. */
export function subscriptionUrlPolicyOf(config: Config): SubscriptionUrlPolicy {
  return new SubscriptionUrlPolicy(config.environment !== 'production' || config.push.allowHttp, config.push.allowedTargets);
}
