import { canonicalTimestamp } from '../../src/events/timestamps';

describe('canonicalTimestamp', () => {
  describe('rewrites valid RFC 3339 timestamps as UTC with six fractional digits', () => {
    it.each([
      ['the provider example with a two-digit fraction', '2021-07-21T14:10:00.00Z', '2021-07-21T14:10:00.000000Z'],
      ['a timestamp without a fraction', '2021-07-21T14:10:00Z', '2021-07-21T14:10:00.000000Z'],
      ['a one-digit fraction', '2021-07-21T14:10:00.5Z', '2021-07-21T14:10:00.500000Z'],
      ['a six-digit fraction', '2021-07-21T14:10:05.123456Z', '2021-07-21T14:10:05.123456Z'],
      ['a nine-digit fraction, truncated to microseconds', '2021-07-21T14:10:00.123456789Z', '2021-07-21T14:10:00.123456Z'],
      ['a fraction just below the next second, truncated rather than rounded up', '2021-07-21T14:10:00.9999999Z', '2021-07-21T14:10:00.999999Z'],
      ['an offset of +02:00', '2021-07-21T16:10:00.25+02:00', '2021-07-21T14:10:00.250000Z'],
      ['an offset of -05:30', '2021-07-21T08:40:00-05:30', '2021-07-21T14:10:00.000000Z'],
      ['an offset of +00:00', '2021-07-21T14:10:00+00:00', '2021-07-21T14:10:00.000000Z'],
      ['an offset of -00:00', '2021-07-21T14:10:00-00:00', '2021-07-21T14:10:00.000000Z'],
      ['an offset that moves the instant into the previous year', '2021-01-01T01:00:00+02:00', '2020-12-31T23:00:00.000000Z'],
      ['an offset that moves the instant onto a leap day', '2024-03-01T03:00:00+05:00', '2024-02-29T22:00:00.000000Z'],
      ['lower-case t and z', '2021-07-21t14:10:00.00z', '2021-07-21T14:10:00.000000Z'],
      ['a space instead of T (allowed by RFC 3339)', '2021-07-21 14:10:00Z', '2021-07-21T14:10:00.000000Z'],
      ['the last second of a day', '2021-12-31T23:59:59.999999Z', '2021-12-31T23:59:59.999999Z'],
    ])('%s', (_description, input, expected) => {
      expect(canonicalTimestamp(input)).toBe(expected);
    });
  });

  it.each([
    ['2024-02-29T00:00:00Z', 'a leap year'],
    ['2000-02-29T00:00:00Z', 'a year divisible by 400'],
  ])('accepts 29 February in %s (%s)', (input) => {
    expect(canonicalTimestamp(input)).toBe(input.replace('Z', '.000000Z'));
  });

  describe('returns undefined for anything that is not a valid RFC 3339 date-time', () => {
    it.each([
      ['30 February', '2021-02-30T00:00:00Z'],
      ['year 0, which Postgres does not have', '0000-06-01T00:00:00Z'],
      ['an offset that moves the instant into year 0', '0001-01-01T00:30:00+01:00'],
      ['29 February of a common year', '2023-02-29T00:00:00Z'],
      ['29 February of a century that is not a leap year', '2100-02-29T00:00:00Z'],
      ['31 April', '2021-04-31T00:00:00Z'],
      ['month 13', '2021-13-01T00:00:00Z'],
      ['month 00', '2021-00-10T00:00:00Z'],
      ['day 00', '2021-07-00T00:00:00Z'],
      ['day 32', '2021-07-32T00:00:00Z'],
      ['hour 24', '2021-07-21T24:00:00Z'],
      ['minute 60', '2021-07-21T14:60:00Z'],
      ['second 60', '2021-07-21T14:10:60Z'],
      ['an empty string', ''],
      ['garbage', 'not a date'],
      ['a date without time', '2021-07-21'],
      ['a time without seconds', '2021-07-21T14:10Z'],
      ['a local time without offset', '2021-07-21T14:10:00'],
      ['a dot without fractional digits', '2021-07-21T14:10:00.Z'],
      ['an offset without colon', '2021-07-21T14:10:00+0200'],
      ['an offset without minutes', '2021-07-21T14:10:00+02'],
      ['single-digit month and day', '2021-7-1T14:10:00Z'],
      ['leading whitespace', ' 2021-07-21T14:10:00Z'],
      ['trailing whitespace', '2021-07-21T14:10:00Z '],
      ['a trailing newline', '2021-07-21T14:10:00Z\n'],
      ['a unix timestamp', '1626876600'],
      ['a JavaScript date string', 'Wed Jul 21 2021 14:10:00 GMT+0000'],
      ['a letter where a digit belongs', '2021-07-2xT14:10:00Z'],
      ['a signed year', '+021-07-21T14:10:00Z'],
      ['a non-ASCII digit', '2021-07-2\u0661T14:10:00Z'],
      ['a letter in the fraction', '2021-07-21T14:10:00.5aZ'],
      ['text after Z', '2021-07-21T14:10:00ZZ'],
      ['text after the offset', '2021-07-21T14:10:00+02:00x'],
      ['an offset with a letter', '2021-07-21T14:10:00+0a:00'],
      ['an offset hour of 24', '2021-07-21T14:10:00+24:00'],
    ])('%s', (_description, input) => {
      expect(canonicalTimestamp(input)).toBeUndefined();
    });
  });

  it('gives the same string for the same instant written in different forms', () => {
    const forms = [
      '2021-07-21T14:10:00.5Z',
      '2021-07-21T14:10:00.500Z',
      '2021-07-21T14:10:00.500000000Z',
      '2021-07-21T16:10:00.5+02:00',
      '2021-07-21T08:40:00.5-05:30',
      '2021-07-21t14:10:00.5z',
    ];
    expect(new Set(forms.map(canonicalTimestamp))).toEqual(new Set(['2021-07-21T14:10:00.500000Z']));
  });

  it('orders instants correctly when canonical strings are compared, across offsets and fraction lengths', () => {
    // Listed in true chronological order; the raw strings are deliberately not in that order.
    const chronological = [
      '2020-12-31T23:59:59.999999Z',
      '2021-01-01T01:00:00.000001+01:00', // 00:00:00.000001Z
      '2021-01-01T00:00:00.00001Z', // .000010: a shorter fraction that is later
      '2021-01-01T00:00:00.0001Z',
      '2021-01-01T05:29:00-05:30', // 10:59Z
      '2021-01-01T13:00:00+02:00', // 11:00Z
      '2021-01-01T11:00:00.1Z',
      '2021-01-01T09:00:00.2-03:00', // 12:00:00.2Z
      '2021-01-02T00:30:00+12:00', // 12:30Z on 1 January
      '2021-01-01T12:31:00Z',
      '2021-02-01T00:00:00Z',
      '2021-10-01T00:00:00Z',
      '2022-01-01T00:00:00Z',
    ];
    const canonical = chronological.map((value) => canonicalTimestamp(value) as string);
    expect(canonical).not.toContain(undefined);

    const shuffled = [...canonical].reverse();
    const sortedAsStrings = [...shuffled].sort();
    expect(sortedAsStrings).toEqual(canonical);
    for (let i = 1; i < canonical.length; i++) {
      expect(canonical[i - 1] < canonical[i]).toBe(true);
    }
  });

  it('compares a raw string order that disagrees with time correctly once canonical', () => {
    const earlier = '2021-07-21T16:00:00+02:00'; // 14:00Z, but sorts after the other as raw text
    const later = '2021-07-21T15:00:00Z';
    expect(earlier > later).toBe(true);
    expect((canonicalTimestamp(earlier) as string) < (canonicalTimestamp(later) as string)).toBe(true);
  });

  describe('out-of-range input', () => {
    it('rejects an offset outside RFC 3339 range (hours 00-23, minutes 00-59)', () => {
      expect(canonicalTimestamp('2021-07-21T14:10:00+99:99')).toBeUndefined();
    });

    it('keeps years below 100 instead of moving them into the 1900s', () => {
      expect(canonicalTimestamp('0050-01-01T00:00:00Z')).toBe('0050-01-01T00:00:00.000000Z');
    });

    it('never returns a malformed string when an offset moves the instant past year 9999', () => {
      const result = canonicalTimestamp('9999-12-31T23:00:00-05:00');
      expect(result === undefined || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(result)).toBe(true);
    });
  });
});
