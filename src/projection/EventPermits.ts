/**
 * A counting semaphore over events: bounds how many events the worker's jobs hold in memory at
 * once, whatever their number and size. A job takes permits for the events it reads, and gives
 * them back once they are projected; one that wants more than are free waits its turn, in order.
 */
export class EventPermits {
  private available: number;
  private readonly waiting: Array<{ count: number; grant(): void }> = [];

  constructor(private readonly capacity: number) {
    this.available = capacity;
  }

  /** Resolves once `count` permits are taken (at most the capacity: a larger request takes all of them). */
  async take(count: number): Promise<number> {
    const wanted = Math.min(count, this.capacity);
    if (this.waiting.length === 0 && this.available >= wanted) {
      this.available -= wanted;
      return wanted;
    }
    await new Promise<void>((grant) => this.waiting.push({ count: wanted, grant }));
    return wanted;
  }

  /** Gives back what take() answered. */
  give(count: number): void {
    this.available += count;
    while (this.waiting.length > 0 && this.available >= this.waiting[0].count) {
      const next = this.waiting.shift() as { count: number; grant(): void };
      this.available -= next.count;
      next.grant();
    }
  }
}
