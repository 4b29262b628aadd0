import { WakeUp } from '../../src/shared/WakeUp';

describe('WakeUp', () => {
  it('wakes a waiting loop at once', async () => {
    const wakeUp = new WakeUp();
    const started = Date.now();
    const waiting = wakeUp.wait(60_000);
    wakeUp.wake();
    await waiting;
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('keeps a wake-up that came while nobody waited, once', async () => {
    const wakeUp = new WakeUp();
    wakeUp.wake();
    wakeUp.wake();
    await wakeUp.wait(60_000);
    const started = Date.now();
    await wakeUp.wait(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('wakes every waiter', async () => {
    const wakeUp = new WakeUp();
    const waiting = [wakeUp.wait(60_000), wakeUp.wait(60_000)];
    wakeUp.wake();
    await Promise.all(waiting);
  });
});
