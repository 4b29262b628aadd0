/**
 * Wakes a waiting loop. A wake-up that comes while nobody waits is kept, so that the next wait
 * returns at once: the loop never sleeps through work that arrived while it was running.
 */
export class WakeUp {
  private pending = false;
  private readonly waiters = new Set<() => void>();

  wake(): void {
    if (this.waiters.size === 0) {
      this.pending = true;
      return;
    }
    for (const done of [...this.waiters]) done();
  }

  /** Resolves at the next wake(), at once if one came since the last wait, or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }
}
