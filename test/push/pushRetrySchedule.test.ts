import { pushRetryDelayMs } from '../../src/push/pushRetrySchedule';

describe('pushRetryDelayMs', () => {
  it('doubles from 10 s up to an hour, jittered into the upper half', () => {
    expect(pushRetryDelayMs(1, () => 1)).toBe(10_000);
    expect(pushRetryDelayMs(1, () => 0)).toBe(5_000);
    expect(pushRetryDelayMs(2, () => 1)).toBe(20_000);
    expect(pushRetryDelayMs(9, () => 1)).toBe(2_560_000);
    expect(pushRetryDelayMs(10, () => 1)).toBe(3_600_000);
    expect(pushRetryDelayMs(500, () => 0)).toBe(1_800_000);
  });

  it('goes on hourly: about 33 attempts span the first 24 hours (docs/push.md#retries)', () => {
    let elapsed = 0;
    let attempts = 1;
    while (elapsed < 24 * 3600 * 1000) elapsed += pushRetryDelayMs(attempts++, () => 1);
    expect(attempts).toBe(33);
  });
});
