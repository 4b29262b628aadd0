import { retryAfterMsOf } from '../../src/provider/UpvestApiClient';

const NOW = Date.parse('2015-10-21T07:28:00Z');

describe('retryAfterMsOf', () => {
  it.each([
    ['0', 0],
    ['1', 1000],
    ['120', 120_000],
    [' 5 ', 5000],
  ])('reads delta-seconds %j as %d ms', (value, expected) => {
    expect(retryAfterMsOf(value, NOW)).toBe(expected);
  });

  it('reads an HTTP date as the time left until then', () => {
    expect(retryAfterMsOf('Wed, 21 Oct 2015 07:28:30 GMT', NOW)).toBe(30_000);
  });

  it('reads an HTTP date in the past as no wait', () => {
    expect(retryAfterMsOf('Wed, 21 Oct 2015 07:27:00 GMT', NOW)).toBe(0);
  });

  it('defaults the reference time to now', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterMsOf(inTenSeconds)).toBeGreaterThan(8000);
    expect(retryAfterMsOf(inTenSeconds)).toBeLessThanOrEqual(10_000);
  });

  it.each([null, '', '   '])('is undefined when the header is absent (%j)', (value) => {
    expect(retryAfterMsOf(value, NOW)).toBeUndefined();
  });

  it.each(['soon', 'abc', '10s', '1e3', '0x10'])('is undefined for garbage %j', (value) => {
    expect(retryAfterMsOf(value, NOW)).toBeUndefined();
  });

  // V8's lenient Date.parse reads these as dates in 2001: they must fall back to back-off, not mean "retry at once".
  it.each(['1.5', '-1', '1 2', 'foo 12'])('is undefined for the number-like garbage %j', (value) => {
    expect(retryAfterMsOf(value, NOW)).toBeUndefined();
  });
});
