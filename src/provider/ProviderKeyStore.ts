import { Logger } from '../logging/logger';
import { withTimeout } from '../shared/withTimeout';
import { type KeyLookup, KeySourceUnavailableError, VerificationKeySet } from '../signature';

export interface ProviderKeyStoreOptions {
  /** Scheduled refresh, to pick up rotated keys before the first webhook signed with one arrives. */
  refreshIntervalMs: number;
  /** At most one refresh per this interval is triggered by unknown key ids: they may come from anyone. */
  minRefreshIntervalMs: number;
  /**
   * How long a webhook request waits for the refresh its unknown key id triggered. The fetch goes
   * on afterwards, and the provider's retry finds the keys; the provider expects a quick answer.
   */
  refreshWaitMs: number;
}

/**
 * The provider's webhook verification keys, fetched from its API (GET /auth/verify_keys) and
 * cached. A failed refresh keeps the last good keys: a short API outage must not turn into
 * rejected webhooks.
 */
export class ProviderKeyStore {
  private keys: VerificationKeySet | undefined;
  private lastTriggeredMs = Number.NEGATIVE_INFINITY;
  private pending: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fetchJwks: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: ProviderKeyStoreOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The KeyLookup of webhook verification (bound). The provider may start signing with a new key
   * before our scheduled refresh sees it: an unknown key id refreshes as refreshForUnknownKey
   * allows and waits for it up to refreshWaitMs. Throws KeySourceUnavailableError as long as no
   * keys were ever loaded: the provider's key endpoint was unreachable since start.
   */
  readonly lookup: KeyLookup = async (kid) => {
    if (this.keys?.get(kid) === undefined) await this.waitForRefresh();
    if (this.keys === undefined) throw new KeySourceUnavailableError("the provider's verification keys could not be loaded yet");
    return this.keys.get(kid);
  };

  get loaded(): boolean {
    return this.keys !== undefined;
  }

  /**
   * Loads the keys now and then every refreshIntervalMs, until stop(). The answer says whether the
   * first load succeeded; the service does not wait for it (deliveries get 503 until keys load).
   */
  start(): Promise<boolean> {
    this.timer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * After a webhook signed with an unknown key id: refreshes, unless a refresh started less than
   * minRefreshIntervalMs ago. Concurrent callers share one refresh. True when a refresh succeeded.
   */
  async refreshForUnknownKey(): Promise<boolean> {
    if (this.pending !== undefined) return this.pending;
    if (this.now() - this.lastTriggeredMs < this.options.minRefreshIntervalMs) return false;
    this.lastTriggeredMs = this.now();
    return this.refresh();
  }

  // The refresh never rejects and goes on after the wait: the provider expects a quick answer, and
  // its retry finds the keys.
  private async waitForRefresh(): Promise<void> {
    await withTimeout(this.refreshForUnknownKey(), this.options.refreshWaitMs, () => new Error('refresh wait over')).catch(() => undefined);
  }

  private refresh(): Promise<boolean> {
    this.pending ??= this.load().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async load(): Promise<boolean> {
    try {
      const keys = VerificationKeySet.fromJwks(await this.fetchJwks());
      const added = keys.kids.filter((kid) => this.keys?.get(kid) === undefined);
      this.keys = keys;
      if (added.length > 0) this.logger.info('verification keys loaded from the provider', { kids: keys.kids, added });
      return true;
    } catch (error) {
      this.logger.error('could not load verification keys from the provider; keeping the last good ones', {
        error: (error as Error).message,
        kids: this.keys?.kids ?? [],
      });
      return false;
    }
  }
}
