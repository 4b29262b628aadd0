import { parseListQuery, parseNoQuery, parsePaymentId } from '../../src/readApi/readApiParameters';

describe('read API parameters', () => {
  it('defaults limit and offset and leaves absent filters out', () => {
    expect(parseListQuery({})).toEqual({ ok: true, value: { limit: 100, offset: 0 } });
  });

  it('takes every filter and canonicalizes updated_since to UTC with microseconds', () => {
    const query = {
      user_id: 'B668282B-CDF3-439A-BDA2-3F3C9F655BB7',
      account_group_id: '1ea60f56-b67b-61fc-829a-0242ac130003',
      status: 'PROCESSING',
      updated_since: '2026-03-01T13:00:00.5+01:00',
      limit: '1000',
      offset: '20',
    };
    expect(parseListQuery(query)).toEqual({ ok: true, value: { ...query, updated_since: '2026-03-01T12:00:00.500000Z', limit: 1000, offset: 20 } });
  });

  it('names every problem at once', () => {
    expect(parseListQuery({ user_id: 'x', limit: '1.5', sort: 'id', status: 'new' })).toEqual({
      ok: false,
      detail:
        'user_id: must be a uuid; status: must be one of NEW, PROCESSING, CONFIRMED, CANCELLED; limit: must be a non-negative integer; unknown query parameter(s): sort',
    });
  });

  it('refuses an offset that cannot be a number of rows', () => {
    expect(parseListQuery({ offset: '12345678901' })).toEqual({ ok: false, detail: 'offset: must be a non-negative integer' });
  });

  it('takes no query parameters on single resources', () => {
    expect(parseNoQuery({})).toEqual({ ok: true, value: {} });
    expect(parseNoQuery({ fields: 'id' })).toEqual({ ok: false, detail: 'unknown query parameter(s): fields' });
  });

  it('accepts any hex uuid as an id, as Postgres does', () => {
    expect(parsePaymentId('1ea60f56-b67b-61fc-829a-0242ac130003')).toEqual({ ok: true, value: '1ea60f56-b67b-61fc-829a-0242ac130003' });
    expect(parsePaymentId('1ea60f56b67b61fc829a0242ac130003')).toEqual({ ok: false, detail: "The id '1ea60f56b67b61fc829a0242ac130003' is not a uuid." });
  });
});
