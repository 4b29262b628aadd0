import { setTimeout as sleep } from 'node:timers/promises';

/** The time source a pacer reads and waits on; tests pass a virtual one. */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

const realClock: PacerClock = { now: Date.now, sleep };

/**
 * Spaces calls evenly so that no more than `perSecond` start in any second: reconciliation and
 * backfill may fetch thousands of payments, and the provider answers bursts with 429.
 */
export class RequestPacer {
  private nextSlotMs = 0;

  constructor(
    private readonly perSecond: number,
    private readonly clock: PacerClock = realClock,
  ) {}

  async waitForSlot(): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlotMs);
    this.nextSlotMs = slot + 1000 / this.perSecond;
    if (slot > now) await this.clock.sleep(slot - now);
  }
}
