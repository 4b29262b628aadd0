import { Logger } from '../logging/logger';
import { WakeUp } from '../shared/WakeUp';
import { EnabledSubscription, PushDispatchStore } from './PushDispatchStore';
import { SubscriptionLane } from './SubscriptionLane';

export interface PushDispatcherOptions {
  /** How often it looks for changes without a notification, and for added, changed or removed subscriptions. */
  pollIntervalMs: number;
  keepDeliveredDays: number;
}

/** What wakes the dispatcher when a status change commits (src/changes/ChangeNotifications.ts). */
export interface ChangeWaiter {
  wait(timeoutMs: number): Promise<void>;
}

/** Changes taken per subscription in one statement; more are taken at once in the next one. */
const DISPATCH_PAGE = 1000;
/** A subscription that another statement held is tried again this soon. */
const HELD_RETRY_MS = 20;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The push in one worker process: takes each status change into the deliveries of the
 * subscriptions it matches as soon as it commits (woken by the projection's NOTIFY), and runs
 * one lane per enabled subscription that sends them. Every worker replica runs one; they share
 * the work through Postgres row locks, never doing the same twice.
 */
export class PushDispatcher {
  private readonly lanes = new Map<string, { lane: SubscriptionLane; version: string }>();
  private readonly stoppingLanes = new Set<Promise<void>>();
  private readonly stopWakeUp = new WakeUp();
  private stopping = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: PushDispatchStore,
    private readonly changes: ChangeWaiter,
    private readonly newLane: (subscription: EnabledSubscription) => SubscriptionLane,
    private readonly logger: Logger,
    private readonly options: PushDispatcherOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Stops dispatching; each lane's attempts in flight end and are recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopWakeUp.wake();
    await this.running;
    await Promise.all([...this.lanes.values()].map(({ lane }) => lane.stop()));
    await Promise.all(this.stoppingLanes);
  }

  private async run(): Promise<void> {
    let lanesRefreshedAt = 0;
    let prunedAt = 0;
    while (!this.stopping) {
      // Listening before dispatching: a change that commits meanwhile wakes the next round.
      const committed = this.changes.wait(this.options.pollIntervalMs);
      let pauseMs = this.options.pollIntervalMs;
      try {
        if (Date.now() - lanesRefreshedAt >= this.options.pollIntervalMs) {
          await this.refreshLanes();
          lanesRefreshedAt = Date.now();
        }
        pauseMs = (await this.dispatchAll()) ? HELD_RETRY_MS : pauseMs;
        if (Date.now() - prunedAt >= PRUNE_INTERVAL_MS) {
          prunedAt = Date.now();
          const pruned = await this.store.pruneDelivered(this.options.keepDeliveredDays);
          if (pruned > 0) this.logger.info('push: delivered changes pruned', { pruned, keptDays: this.options.keepDeliveredDays });
        }
      } catch (error) {
        this.logger.warn('push: dispatch failed; trying again', { error: (error as Error).message });
      }
      const stopped = this.stopWakeUp.wait(pauseMs);
      await (pauseMs === HELD_RETRY_MS ? stopped : Promise.race([committed, stopped]));
    }
  }

  /** Dispatches until no subscription has more waiting; true if one was held by another statement. */
  private async dispatchAll(): Promise<boolean> {
    for (;;) {
      const { dispatched, skipped } = await this.store.dispatch(DISPATCH_PAGE);
      for (const { subscription_id, copied } of dispatched) if (copied > 0) this.lanes.get(subscription_id)?.lane.wake();
      if (this.stopping || !dispatched.some(({ copied }) => copied === DISPATCH_PAGE)) return skipped > 0;
    }
  }

  /** A lane for each enabled subscription, made anew when the subscription changed; none for the others. */
  private async refreshLanes(): Promise<void> {
    const enabled = await this.store.enabledSubscriptions();
    const current = new Set(enabled.map(({ id }) => id));
    for (const [id, { version }] of this.lanes) {
      if (!current.has(id) || enabled.find((subscription) => subscription.id === id)?.updated_at !== version) this.retire(id);
    }
    for (const subscription of enabled) {
      if (this.lanes.has(subscription.id)) continue;
      const lane = this.newLane(subscription);
      this.lanes.set(subscription.id, { lane, version: subscription.updated_at });
      lane.start();
    }
  }

  /** Stops a lane without waiting for it: its attempts in flight end and are recorded meanwhile. */
  private retire(id: string): void {
    const entry = this.lanes.get(id);
    if (entry === undefined) return;
    this.lanes.delete(id);
    const stopped = entry.lane.stop().finally(() => this.stoppingLanes.delete(stopped));
    this.stoppingLanes.add(stopped);
  }
}
