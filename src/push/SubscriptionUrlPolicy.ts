import { RefusedTargetError } from './errors';
import { checkTargetHost, TargetAllowList } from './targetAddresses';

/** Why a URL is not sent to, in the words of upvest_push_failures_total's `reason`. */
export interface UrlRefusal {
  reason: 'insecure_url' | 'refused_target';
  error: string;
}

/**
 * Which subscription URLs may be sent to: https only in production (unless PUSH_ALLOW_HTTP), and
 * no host that is an internal address the allow-list does not name. Checked when a subscription is
 * added or changed, and again before every attempt (the configuration may have changed since).
 * Names are checked when they are resolved, on every connection (targetAddresses.checkedLookup).
 */
export class SubscriptionUrlPolicy {
  constructor(
    readonly allowHttp: boolean,
    readonly allowedTargets: TargetAllowList,
  ) {}

  refusalOf(url: URL): UrlRefusal | undefined {
    if (url.protocol === 'http:' && !this.allowHttp) {
      return { reason: 'insecure_url', error: 'http:// is not allowed in production; use https:// (or set PUSH_ALLOW_HTTP=true)' };
    }
    try {
      checkTargetHost(url.hostname, this.allowedTargets);
      return undefined;
    } catch (error) {
      if (error instanceof RefusedTargetError) return { reason: 'refused_target', error: error.message };
      throw error;
    }
  }
}
