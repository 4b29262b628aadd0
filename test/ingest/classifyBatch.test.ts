import { createHash } from 'node:crypto';
import { classifyBatch, CONFLICTING_DUPLICATE } from '../../src/ingest/classifyBatch';
import { batchBody, directDebitEvent, uuid, withdrawalEvent } from '../../testkit/paymentEvents';
import { without } from '../support/builders';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

describe('classifyBatch', () => {
  it('returns every valid withdrawal and direct-debit event of a batch in order', () => {
    const events = [
      withdrawalEvent({ id: uuid(1), type: 'WITHDRAWAL.NEW' }),
      directDebitEvent({ id: uuid(2), type: 'DIRECT_DEBIT.PROCESSING' }),
      withdrawalEvent({ id: uuid(3), type: 'WITHDRAWAL.CONFIRMED' }),
    ];
    const batch = classifyBatch(batchBody(...events));

    expect(batch.events.map(({ event }) => [event.id, event.type])).toEqual([
      [uuid(1), 'WITHDRAWAL.NEW'],
      [uuid(2), 'DIRECT_DEBIT.PROCESSING'],
      [uuid(3), 'WITHDRAWAL.CONFIRMED'],
    ]);
    expect(batch.ignored.size).toBe(0);
    expect(batch.quarantined).toEqual([]);
  });

  it('keeps the whole event, including fields it does not know', () => {
    const event = withdrawalEvent({ extra: 1, object: { taxes: [{ amount: '1.00' }], purpose_code: 'SALA' } });
    expect(classifyBatch(batchBody(event)).events).toEqual([{ event, position: 0 }]);
  });

  it('counts events of foreign types by type instead of rejecting them', () => {
    const batch = classifyBatch(
      batchBody(
        { id: uuid(1), type: 'USER.CREATED', object: {} },
        withdrawalEvent({ id: uuid(2) }),
        { id: uuid(3), type: 'ORDER.FILLED', object: {} },
        { id: uuid(4), type: 'USER.CREATED', object: {} },
      ),
    );

    expect(batch.ignored).toEqual(
      new Map([
        ['USER.CREATED', 2],
        ['ORDER.FILLED', 1],
      ]),
    );
    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(2)]);
    expect(batch.quarantined).toEqual([]);
  });

  it('ignores a foreign event however malformed the rest of it is', () => {
    const batch = classifyBatch(batchBody({ type: 'ACCOUNT.UPDATED' }));
    expect(batch.ignored).toEqual(new Map([['ACCOUNT.UPDATED', 1]]));
    expect(batch.quarantined).toEqual([]);
  });

  it('quarantines an event of an unknown withdrawal type with a reason naming the type', () => {
    const refunded = withdrawalEvent({ id: uuid(7), type: 'WITHDRAWAL.REFUNDED' });
    const batch = classifyBatch(batchBody(refunded));

    expect(batch.events).toEqual([]);
    expect(batch.ignored.size).toBe(0);
    expect(batch.quarantined).toHaveLength(1);
    const [item] = batch.quarantined;
    expect(item.reason).toBe('unknown event type WITHDRAWAL.REFUNDED');
    expect(item.eventId).toBe(uuid(7));
    expect(item.eventType).toBe('WITHDRAWAL.REFUNDED');
    expect(JSON.parse(item.content.toString('utf8'))).toEqual(refunded);
    expect(item.contentSha256).toBe(sha256(item.content));
  });

  it('quarantines an event that violates the schema with the field path in the reason, and still accepts the rest of the batch', () => {
    const invalid = withdrawalEvent({ id: uuid(2), type: 'WITHDRAWAL.PROCESSING', object: { amount: '200.0' } });
    const batch = classifyBatch(batchBody(withdrawalEvent({ id: uuid(1) }), invalid, directDebitEvent({ id: uuid(3) })));

    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(1), uuid(3)]);
    expect(batch.quarantined).toHaveLength(1);
    const [item] = batch.quarantined;
    expect(item.reason).toMatch(/^invalid WITHDRAWAL\.PROCESSING event: /);
    expect(item.reason).toContain('object.amount');
    expect(item.eventId).toBe(uuid(2));
    expect(item.eventType).toBe('WITHDRAWAL.PROCESSING');
    expect(JSON.parse(item.content.toString('utf8'))).toEqual(invalid);
    expect(item.contentSha256).toBe(sha256(item.content));
  });

  it('names every violated field of a direct debit in the reason', () => {
    const event = directDebitEvent({ object: { cash_amount: 50, currency: 'eur' } });
    const [item] = classifyBatch(batchBody({ ...event, object: without(event.object, 'mandate_id') })).quarantined;
    expect(item.reason).toContain('object.mandate_id');
    expect(item.reason).toContain('object.cash_amount');
    expect(item.reason).toContain('object.currency');
  });

  it('quarantines an event whose uuid is invalid and reports the id it had', () => {
    const [item] = classifyBatch(batchBody(withdrawalEvent({ id: 'not-a-uuid' }))).quarantined;
    expect(item.reason).toContain('id: must be a uuid');
    expect(item.eventId).toBe('not-a-uuid');
  });

  it.each([
    ['an element without type', { id: uuid(1), object: {} }, uuid(1)],
    ['an element whose type is not a string', { id: uuid(1), type: 42 }, uuid(1)],
    ['an element whose id is not a string either', { id: 5, type: null }, undefined],
    ['null', null, undefined],
    ['a number', 42, undefined],
    ['a string', 'WITHDRAWAL.NEW', undefined],
    ['an array', [withdrawalEvent()], undefined],
  ])('quarantines %s as an event without a type', (_description, element, eventId) => {
    const batch = classifyBatch(batchBody(withdrawalEvent({ id: uuid(9) }), element));

    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(9)]);
    expect(batch.quarantined).toHaveLength(1);
    const [item] = batch.quarantined;
    expect(item.reason).toBe('event has no string "type"');
    expect(item.eventId).toBe(eventId);
    expect(item.eventType).toBeUndefined();
    expect(item.content.toString('utf8')).toBe(JSON.stringify(element));
    expect(item.contentSha256).toBe(sha256(item.content));
  });

  it.each([
    ['a body that is not JSON', 'this is not json', /^body is not JSON: /],
    ['truncated JSON', '{"payload":[{"id":"8962b496', /^body is not JSON: /],
    ['an empty body', '', /^body is not JSON: /],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), /^body is not JSON: /],
    ['a JSON array', '[{"type":"WITHDRAWAL.NEW"}]', /^body is not a \{"payload":\[\.\.\.\]\} batch: /],
    ['JSON null', 'null', /^body is not a \{"payload":\[\.\.\.\]\} batch: /],
    ['a JSON string', '"payload"', /^body is not a \{"payload":\[\.\.\.\]\} batch: /],
    ['an object without payload', '{"events":[]}', /^body is not a \{"payload":\[\.\.\.\]\} batch: payload: /],
    ['a payload that is an object', '{"payload":{"type":"WITHDRAWAL.NEW"}}', /^body is not a \{"payload":\[\.\.\.\]\} batch: payload: /],
    ['an empty payload array', '{"payload":[]}', /^body is not a \{"payload":\[\.\.\.\]\} batch: payload: /],
  ])('quarantines %s as a whole, keeping its exact bytes', (_description, raw, reason) => {
    const body = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    const batch = classifyBatch(body);

    expect(batch.events).toEqual([]);
    expect(batch.ignored.size).toBe(0);
    expect(batch.quarantined).toHaveLength(1);
    const [item] = batch.quarantined;
    expect(item.reason).toMatch(reason);
    expect(item.content.equals(body)).toBe(true);
    expect(item.contentSha256).toBe(sha256(body));
    expect(item.eventId).toBeUndefined();
    expect(item.eventType).toBeUndefined();
  });

  it('keeps the raw bytes of an unparseable body, not a re-encoding of them', () => {
    const body = Buffer.from('{ "payload" : [ \u00e9 ] }\r\n', 'utf8');
    const [item] = classifyBatch(body).quarantined;
    expect(item.content.equals(body)).toBe(true);
    expect(item.contentSha256).toBe(sha256(body));
  });

  it('accepts an envelope with extra top-level fields', () => {
    const body = Buffer.from(JSON.stringify({ payload: [withdrawalEvent()], meta: { page: 1 } }));
    expect(classifyBatch(body).events).toHaveLength(1);
  });

  it('returns an event that appears twice in one batch once, and counts the identical copy as repeated', () => {
    const event = withdrawalEvent({ id: uuid(1) });
    const batch = classifyBatch(batchBody(event, withdrawalEvent({ id: uuid(2) }), { ...event }));

    expect(batch.events.map(({ event: { id }, position }) => [id, position])).toEqual([
      [uuid(1), 0],
      [uuid(2), 1],
    ]);
    expect(batch.repeated.map(({ id }) => id)).toEqual([uuid(1)]);
    expect(batch.quarantined).toEqual([]);
  });

  it('takes an identical copy with its keys in another order as repeated, not as conflicting', () => {
    const event = withdrawalEvent({ id: uuid(1) });
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    const batch = classifyBatch(batchBody(event, reordered));

    expect(batch.repeated).toHaveLength(1);
    expect(batch.quarantined).toEqual([]);
  });

  it('quarantines a copy of an event id with other content as a conflicting duplicate; the first copy stands', () => {
    const first = withdrawalEvent({ id: uuid(1), object: { remittance_information: 'first copy' } });
    const second = withdrawalEvent({ id: uuid(1), object: { remittance_information: 'second copy' } });
    const batch = classifyBatch(batchBody(first, withdrawalEvent({ id: uuid(2) }), second));

    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(1), uuid(2)]);
    expect(batch.events[0].event.object.remittance_information).toBe('first copy');
    expect(batch.repeated).toEqual([]);
    expect(batch.quarantined).toHaveLength(1);
    const [item] = batch.quarantined;
    expect(item).toMatchObject({ reason: CONFLICTING_DUPLICATE, eventId: uuid(1), eventType: 'WITHDRAWAL.NEW' });
    expect(JSON.parse(item.content.toString('utf8'))).toEqual(second);
  });

  it('keeps the body as text for a batch, to store each event from it as received, and none for other content', () => {
    const text = `{ "payload" : [ ${JSON.stringify(withdrawalEvent())} ] }`;
    expect(classifyBatch(Buffer.from(text)).text).toBe(text);
    expect(classifyBatch(Buffer.from('not json')).text).toBeUndefined();
  });

  it('accepts a valid copy of an event whose earlier copy was quarantined', () => {
    const batch = classifyBatch(batchBody(withdrawalEvent({ id: uuid(1), object: { amount: 'x' } }), withdrawalEvent({ id: uuid(1) })));
    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(1)]);
    expect(batch.quarantined).toHaveLength(1);
  });

  it('sorts a mixed batch into events, ignored and quarantined', () => {
    const batch = classifyBatch(
      batchBody(
        withdrawalEvent({ id: uuid(1) }),
        { id: uuid(2), type: 'USER.CREATED' },
        withdrawalEvent({ id: uuid(3), type: 'WITHDRAWAL.REFUNDED' }),
        directDebitEvent({ id: uuid(4), object: { cash_amount: '-5.00' } }),
        withdrawalEvent({ id: uuid(1) }),
        { id: uuid(6) },
        directDebitEvent({ id: uuid(7), object: { currency: 'GBP' } }),
      ),
    );

    expect(batch.events.map(({ event }) => event.id)).toEqual([uuid(1), uuid(7)]);
    expect(batch.repeated.map(({ id }) => id)).toEqual([uuid(1)]);
    expect(batch.ignored).toEqual(new Map([['USER.CREATED', 1]]));
    expect(batch.quarantined.map((item) => item.eventId)).toEqual([uuid(3), uuid(4), uuid(6)]);
  });

  it.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['random bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37) % 256))],
    ['a payload of nulls', Buffer.from('{"payload":[null,null]}')],
    ['a payload element with a __proto__ key', Buffer.from('{"payload":[{"__proto__":{"type":"WITHDRAWAL.NEW"},"id":"x"}]}')],
    ['a number as body', Buffer.from('12345')],
    ['a deeply nested but parseable element', Buffer.from(`{"payload":[${'['.repeat(1000)}${']'.repeat(1000)}]}`)],
  ])('does not throw for %s', (_description, body) => {
    expect(() => classifyBatch(body)).not.toThrow();
  });

  it('quarantines the whole body when an element is nested too deeply to re-encode', () => {
    // JSON.parse accepts the nesting; re-encoding the element for the quarantine overflows the stack.
    const depth = 100_000;
    const body = Buffer.from(`{"payload":[{"id":"${uuid(1)}","type":"WITHDRAWAL.NEW","object":${'['.repeat(depth)}${']'.repeat(depth)}}]}`);

    const batch = classifyBatch(body);

    expect(batch.events).toEqual([]);
    expect(batch.quarantined).toHaveLength(1);
    expect(batch.quarantined[0].content.equals(body)).toBe(true);
  });
});
