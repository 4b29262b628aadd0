import { storableText } from '../../src/database/storableText';
import { classifyBatch } from '../../src/ingest/classifyBatch';
import { payloadText } from '../../src/ingest/payloadText';
import { MAX_QUARANTINE_ITEMS } from '../../src/ingest/UnusableElements';
import { MAX_EVENT_DEPTH, unstorableReason } from '../../src/ingest/unstorableContent';
import { batchBody, uuid, withdrawalEvent } from '../../testkit/paymentEvents';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A batch whose second event carries `field` (raw JSON) in an unknown member. */
function withSibling(field: string): { body: Buffer; sibling: ReturnType<typeof withdrawalEvent>; odd: ReturnType<typeof withdrawalEvent> } {
  const sibling = withdrawalEvent({ id: uuid(1) });
  const odd = withdrawalEvent({ id: uuid(2) });
  const text = JSON.stringify({ payload: [sibling, { ...odd, extra: 'PLACEHOLDER' }] }).replace('"PLACEHOLDER"', field);
  return { body: Buffer.from(text), sibling, odd };
}

describe('classifyBatch with hostile content', () => {
  it.each([
    ['nested deeper than the bound', nested(MAX_EVENT_DEPTH + 1), `is nested deeper than ${MAX_EVENT_DEPTH} levels`],
    ['a NUL character', '"a\\u0000b"', 'holds a NUL character'],
    ['a lone high surrogate', '"\\ud800"', 'holds a lone UTF-16 surrogate'],
    ['a lone low surrogate in a key', '{"\\udc00":1}', 'holds a lone UTF-16 surrogate'],
  ])('quarantines an otherwise valid event holding %s, and accepts its sibling', (_name, field, reason) => {
    const { body, sibling, odd } = withSibling(field);

    const batch = classifyBatch(body);

    expect(batch.events.map(({ event }) => event.id)).toEqual([sibling.id]);
    expect(batch.quarantined).toHaveLength(1);
    expect(batch.quarantined[0]).toMatchObject({ eventId: odd.id, eventType: 'WITHDRAWAL.NEW' });
    expect(batch.quarantined[0].reason).toContain(reason);
    // The text Postgres parses holds the sibling as received and null in place of the other.
    expect(JSON.parse(batch.text as string)).toEqual({ payload: [sibling, null] });
  });

  it('accepts an event nested exactly as deep as the bound, keeping the body text as received', () => {
    const { body, sibling } = withSibling(nested(MAX_EVENT_DEPTH - 1));

    const batch = classifyBatch(body);

    expect(batch.events).toHaveLength(2);
    expect(batch.text).toBe(body.toString('utf8'));
    expect(sibling.id).toBe(uuid(1));
  });

  it.each(['0000-12-31T23:00:00Z', '0001-01-01T00:00:00+01:00'])('quarantines an event created in year 0 (%s), which Postgres cannot store', (createdAt) => {
    const batch = classifyBatch(batchBody(withdrawalEvent({ created_at: createdAt })));

    expect(batch.events).toEqual([]);
    expect(batch.quarantined[0].reason).toMatch(/created_at: must be an RFC 3339 date-time/);
  });

  it('ignores a leading byte order mark', () => {
    const event = withdrawalEvent({ id: uuid(3) });
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), batchBody(event)]);

    const batch = classifyBatch(body);

    expect(batch.events.map(({ event: { id } }) => id)).toEqual([uuid(3)]);
    expect(batch.text?.startsWith('{')).toBe(true);
  });

  it.each(['withdrawal.new', 'Withdrawal.New', ' WITHDRAWAL.NEW', 'direct_debit.confirmed'])(
    'quarantines a projected category in other letter case or with spaces (%j) instead of ignoring it',
    (type) => {
      const batch = classifyBatch(batchBody(withdrawalEvent({ type })));

      expect(batch.ignored.size).toBe(0);
      expect(batch.quarantined.map((item) => [item.reason, item.eventType])).toEqual([[`unknown event type ${type}`, type]]);
    },
  );

  it('still ignores foreign categories', () => {
    const batch = classifyBatch(batchBody({ id: uuid(4), type: 'user.created' }, { id: uuid(5), type: 'ORDER.FILLED' }));

    expect([...batch.ignored.keys()]).toEqual(['user.created', 'ORDER.FILLED']);
    expect(batch.quarantined).toEqual([]);
  });

  it(`quarantines up to ${MAX_QUARANTINE_ITEMS} unusable events one by one`, () => {
    const broken = Array.from({ length: MAX_QUARANTINE_ITEMS }, (_, index) => ({ type: 'WITHDRAWAL.NEW', id: `n${index}` }));

    const batch = classifyBatch(batchBody(...broken, withdrawalEvent({ id: uuid(6) })));

    expect(batch.quarantined.map((item) => [item.eventId, item.elements])).toEqual(broken.map(({ id }) => [id, undefined]));
    expect(batch.events).toHaveLength(1);
  });

  it('keeps one record of the whole body, counting them, for more unusable events, and still accepts the valid ones', () => {
    const broken = Array.from({ length: MAX_QUARANTINE_ITEMS + 1 }, (_, index) => ({ type: 'WITHDRAWAL.NEW', id: `n${index}` }));
    const body = batchBody(withdrawalEvent({ id: uuid(7) }), ...broken);

    const batch = classifyBatch(body);

    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(7)]);
    expect(batch.quarantined).toHaveLength(1);
    const [record] = batch.quarantined;
    expect(record.content.equals(body)).toBe(true);
    expect(record.elements).toBe(MAX_QUARANTINE_ITEMS + 1);
    expect(record.eventId).toBeUndefined();
    expect(record.reason).toMatch(new RegExp(`^${MAX_QUARANTINE_ITEMS + 1} of the ${MAX_QUARANTINE_ITEMS + 2} events cannot be used, so the whole body is kept: payload\\[1\\]: invalid WITHDRAWAL.NEW event: .*; payload\\[2\\]: .*; payload\\[3\\]: .*; …$`));
  });

  it('sorts a 5 MiB body of tiny broken items into one record without validating each with the schema', () => {
    const item = '{"type":"WITHDRAWAL.NEW","id":"n"}';
    const count = Math.floor((5 * 1024 * 1024) / (item.length + 1));
    const body = Buffer.from(`{"payload":[${Array(count).fill(item).join(',')}]}`);

    const started = performance.now();
    const batch = classifyBatch(body);
    const elapsedMs = performance.now() - started;

    expect(batch.quarantined).toHaveLength(1);
    expect(batch.quarantined[0].elements).toBe(count);
    // Generous: about 0.3 s here; validating each with the schema took about 2.7 s.
    expect(elapsedMs).toBeLessThan(2000);
  });
});

describe('unstorableReason', () => {
  it('finds nothing wrong in an ordinary event, and walks a deep value without recursion', () => {
    expect(unstorableReason(withdrawalEvent())).toBeUndefined();
    expect(unstorableReason(JSON.parse(nested(200_000)))).toBe(`is nested deeper than ${MAX_EVENT_DEPTH} levels`);
  });
});

describe('storableText', () => {
  it('escapes NUL characters and replaces lone surrogates, so that a text column takes it', () => {
    expect(storableText('a\u0000b\ud800c')).toBe('a\\u0000b\ufffdc');
  });
});

describe('payloadText', () => {
  it('keeps every element byte for byte, nulls the given positions, and drops the other members', () => {
    const text = ' { "before" : [[1]] , "payload" : [ {"a" : "x]\\"}" } , 2.50 ,"s" , [ ] ,{ } ] , "after":"\\ud800" } ';

    expect(payloadText(text, new Set([1]))).toBe('{"payload":[{"a" : "x]\\"}" },null,"s",[ ],{ }]}');
  });

  it('takes the last payload member, as JSON.parse does', () => {
    expect(payloadText('{"payload":[1],"payload":[2,3]}', new Set())).toBe('{"payload":[2,3]}');
  });
});
