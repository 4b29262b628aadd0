import { retryDelayMs } from '../../src/shared/retryBackoff';

const BASE = 1000;
const MAX = 5 * 60 * 1000;
const noJitter = () => 1; // the top of the jitter range: the full (capped) delay
const lowestJitter = () => 0; // the bottom of the jitter range: half the delay

describe('retryDelayMs', () => {
  it('uses the base delay for the first retry', () => {
    expect(retryDelayMs(1, BASE, MAX, noJitter)).toBe(BASE);
  });

  it('doubles the delay with every attempt', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt, BASE, MAX, noJitter));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
  });

  it('is capped at the maximum', () => {
    expect(retryDelayMs(9, BASE, MAX, noJitter)).toBe(256000);
    expect(retryDelayMs(10, BASE, MAX, noJitter)).toBe(MAX);
    expect(retryDelayMs(50, BASE, MAX, noJitter)).toBe(MAX);
  });

  it('stays at the maximum for attempt counts where 2^n overflows to Infinity', () => {
    expect(retryDelayMs(5000, BASE, MAX, noJitter)).toBe(MAX);
    expect(retryDelayMs(5000, BASE, MAX, lowestJitter)).toBe(MAX / 2);
  });

  it('treats attempt 0 and negative attempts like the first', () => {
    expect(retryDelayMs(0, BASE, MAX, noJitter)).toBe(BASE);
    expect(retryDelayMs(-3, BASE, MAX, noJitter)).toBe(BASE);
  });

  it('never exceeds the maximum even when the base is larger', () => {
    expect(retryDelayMs(1, 10_000, 3_000, noJitter)).toBe(3_000);
  });

  it('puts the jitter into the upper half of the capped delay', () => {
    expect(retryDelayMs(3, BASE, MAX, lowestJitter)).toBe(2000);
    expect(retryDelayMs(3, BASE, MAX, () => 0.5)).toBe(3000);
    expect(retryDelayMs(3, BASE, MAX, () => 0.25)).toBe(2500);
  });

  it('stays within [half, full] of the capped delay for any random value and attempt', () => {
    const outOfRange: string[] = [];
    const randoms = [0, 1e-9, 0.1, 0.333, 0.5, 0.75, 0.999999, 1 - Number.EPSILON];
    for (const [base, max] of [
      [BASE, MAX],
      [1, 1],
      [3, 7],
      [250, 10_000],
    ]) {
      for (let attempt = 1; attempt <= 40; attempt++) {
        const capped = Math.min(max, base * 2 ** (attempt - 1));
        for (const value of randoms) {
          const delay = retryDelayMs(attempt, base, max, () => value);
          if (!Number.isInteger(delay) || delay < capped / 2 || delay > capped) {
            outOfRange.push(`attempt ${attempt}, base ${base}, max ${max}, random ${value}: ${delay} not in [${capped / 2}, ${capped}]`);
          }
        }
      }
    }
    expect(outOfRange).toEqual([]);
  });

  it('uses Math.random when no random source is given', () => {
    const random = jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      expect(retryDelayMs(2, BASE, MAX)).toBe(1000);
      expect(random).toHaveBeenCalledTimes(1);
    } finally {
      random.mockRestore();
    }
  });
});
