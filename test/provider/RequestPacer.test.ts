import { PacerClock, RequestPacer } from '../../src/provider/RequestPacer';

const SLOT_MS = 50;

/**
 * Virtual time: a sleep only records when it would wake, so the test checks the pacing the pacer
 * asks for without depending on how busy the machine running it is.
 */
class VirtualClock implements PacerClock {
  nowMs = 0;
  readonly wakeTimes: number[] = [];

  now(): number {
    return this.nowMs;
  }

  async sleep(ms: number): Promise<void> {
    this.wakeTimes.push(this.nowMs + ms);
  }
}

function burst(pacer: RequestPacer, count: number): Promise<void[]> {
  return Promise.all(Array.from({ length: count }, () => pacer.waitForSlot()));
}

describe('RequestPacer', () => {
  it('lets the first call through at once', async () => {
    const clock = new VirtualClock();
    await burst(new RequestPacer(1000 / SLOT_MS, clock), 1);
    expect(clock.wakeTimes).toEqual([]);
  });

  it('spaces a burst of calls one slot (1 s / perSecond) apart', async () => {
    const clock = new VirtualClock();
    await burst(new RequestPacer(1000 / SLOT_MS, clock), 4);
    expect(clock.wakeTimes).toEqual([SLOT_MS, 2 * SLOT_MS, 3 * SLOT_MS]);
  });

  it('does not wait when the clock has already passed the next slot', async () => {
    const clock = new VirtualClock();
    const pacer = new RequestPacer(1, clock);
    await pacer.waitForSlot();

    clock.nowMs = 1000;
    await pacer.waitForSlot();
    expect(clock.wakeTimes).toEqual([]);
  });

  it('does not save up the slots of an idle period for a later burst', async () => {
    const clock = new VirtualClock();
    const pacer = new RequestPacer(1000 / SLOT_MS, clock);
    await pacer.waitForSlot();

    clock.nowMs = 60_000;
    await burst(pacer, 2);
    expect(clock.wakeTimes).toEqual([60_000 + SLOT_MS]);
  });

  it('really sleeps with the default clock', async () => {
    const pacer = new RequestPacer(1000 / SLOT_MS);
    const started = Date.now();
    await burst(pacer, 2);
    // Timers never fire early (by more than rounding), so this lower bound holds on a busy machine.
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOT_MS - 2);
  });
});
