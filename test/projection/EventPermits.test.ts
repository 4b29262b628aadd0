import { EventPermits } from '../../src/projection/EventPermits';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('EventPermits', () => {
  it('grants at once while permits are free, and makes later takers wait, in order, until enough are given back', async () => {
    const permits = new EventPermits(10);
    const granted: string[] = [];

    const first = await permits.take(6);
    void permits.take(6).then(() => granted.push('second'));
    void permits.take(1).then(() => granted.push('third'));
    await settle();
    // The third would fit, but waits behind the second: a big job is not starved by small ones.
    expect(granted).toEqual([]);

    permits.give(first);
    await settle();
    expect(granted).toEqual(['second', 'third']);
  });

  it('lets a job bigger than the capacity take all permits instead of waiting forever', async () => {
    const permits = new EventPermits(10);
    expect(await permits.take(25)).toBe(10);
  });
});
