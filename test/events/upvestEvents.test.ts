import {
  directDebitEventSchema,
  kindOf,
  paymentKindOf,
  schemaFor,
  statusOf,
  withdrawalEventSchema,
} from '../../src/events/upvestEvents';
import { PROVIDER_EXAMPLE_UUID, directDebitEvent, parsedDirectDebit, parsedWithdrawal, withdrawalEvent } from '../../testkit/paymentEvents';
import { without } from '../support/builders';

/** The paths of the issues zod reports, as dotted strings. */
function issuePaths(result: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.path.map(String).join('.'));
}

describe('withdrawalEventSchema', () => {
  it('accepts the provider example event', () => {
    expect(withdrawalEventSchema.safeParse(withdrawalEvent()).success).toBe(true);
  });

  it.each(['WITHDRAWAL.NEW', 'WITHDRAWAL.PROCESSING', 'WITHDRAWAL.CONFIRMED', 'WITHDRAWAL.CANCELLED'])('accepts type %s', (type) => {
    expect(withdrawalEventSchema.safeParse(withdrawalEvent({ type })).success).toBe(true);
  });

  it.each(['WITHDRAWAL.REFUNDED', 'DIRECT_DEBIT.NEW', 'withdrawal.new', 'WITHDRAWAL'])('rejects type %s', (type) => {
    const result = withdrawalEventSchema.safeParse(withdrawalEvent({ type }));
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toEqual(['type']);
  });

  it.each(['id', 'created_at', 'type', 'object', 'webhook_id'])('requires the event field %s', (field) => {
    const result = withdrawalEventSchema.safeParse(without(withdrawalEvent(), field));
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toEqual([field]);
  });

  it.each([
    'id',
    'user_id',
    'account_group_id',
    'reference_account_id',
    'amount',
    'currency',
    'remittance_information',
    'created_at',
    'updated_at',
  ])('requires the object field %s', (field) => {
    const event = withdrawalEvent();
    const result = withdrawalEventSchema.safeParse({ ...event, object: without(event.object, field) });
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toEqual([`object.${field}`]);
  });

  it('accepts an object without status and purpose_code', () => {
    const event = withdrawalEvent();
    expect(withdrawalEventSchema.safeParse({ ...event, object: without(event.object, 'status', 'purpose_code') }).success).toBe(true);
  });

  it('rejects an object status that is not a payment status', () => {
    const result = withdrawalEventSchema.safeParse(withdrawalEvent({ object: { status: 'DONE' } }));
    expect(issuePaths(result)).toEqual(['object.status']);
  });

  it.each(['200', '200.00', '0', '0.00', '999999999.99', '123456789'])('accepts the amount "%s"', (amount) => {
    expect(withdrawalEventSchema.safeParse(withdrawalEvent({ object: { amount } })).success).toBe(true);
  });

  it.each([
    ['"200.0"', '200.0'],
    ['"200.000"', '200.000'],
    ['"-1.00"', '-1.00'],
    ['"+1.00"', '+1.00'],
    ['"1000000000" (ten digits)', '1000000000'],
    ['"1,00"', '1,00'],
    ['".50"', '.50'],
    ['"200."', '200.'],
    ['" 200.00"', ' 200.00'],
    ['"2e2"', '2e2'],
    ['an empty string', ''],
    ['the number 200', 200],
    ['the number 200.5', 200.5],
    ['null', null],
  ])('rejects the amount %s', (_description, amount) => {
    const result = withdrawalEventSchema.safeParse(withdrawalEvent({ object: { amount } }));
    expect(result.success).toBe(false);
    expect(issuePaths(result)).toEqual(['object.amount']);
  });

  it('keeps the amount as the exact string that was sent', () => {
    expect(parsedWithdrawal({ object: { amount: '0.10' } }).object.amount).toBe('0.10');
  });

  it.each(['eur', 'EURO', 'E1R', ''])('rejects the currency "%s"', (currency) => {
    expect(issuePaths(withdrawalEventSchema.safeParse(withdrawalEvent({ object: { currency } })))).toEqual(['object.currency']);
  });

  it('accepts remittance information of 140 characters and rejects 141', () => {
    expect(withdrawalEventSchema.safeParse(withdrawalEvent({ object: { remittance_information: 'x'.repeat(140) } })).success).toBe(true);
    const tooLong = withdrawalEventSchema.safeParse(withdrawalEvent({ object: { remittance_information: 'x'.repeat(141) } }));
    expect(issuePaths(tooLong)).toEqual(['object.remittance_information']);
  });

  it('keeps unknown fields at event and object level', () => {
    const event = parsedWithdrawal({
      delivery_attempt: 3,
      object: { purpose_code: 'SALA', taxes: [{ type: 'KEST', amount: '1.00' }], future_field: { nested: true } },
    });
    expect(event).toMatchObject({
      delivery_attempt: 3,
      object: { purpose_code: 'SALA', taxes: [{ type: 'KEST', amount: '1.00' }], future_field: { nested: true } },
    });
  });

  it("accepts the provider's non-RFC-4122 uuid example in every uuid field", () => {
    const result = withdrawalEventSchema.safeParse(
      withdrawalEvent({
        id: PROVIDER_EXAMPLE_UUID,
        webhook_id: PROVIDER_EXAMPLE_UUID,
        object: {
          id: PROVIDER_EXAMPLE_UUID,
          user_id: PROVIDER_EXAMPLE_UUID,
          account_group_id: PROVIDER_EXAMPLE_UUID,
          reference_account_id: PROVIDER_EXAMPLE_UUID,
        },
      }),
    );
    expect(result.success).toBe(true);
  });

  it('accepts an upper-case uuid', () => {
    expect(withdrawalEventSchema.safeParse(withdrawalEvent({ id: '8962B496-8D42-4560-BFAB-10490DD1A721' })).success).toBe(true);
  });

  it.each([
    ['a word', 'not-a-uuid'],
    ['a uuid without dashes', '8962b4968d424560bfab10490dd1a721'],
    ['a uuid in braces', '{8962b496-8d42-4560-bfab-10490dd1a721}'],
    ['a uuid with a non-hex digit', '8962b496-8d42-4560-bfab-10490dd1a72g'],
    ['a uuid one digit short', '8962b496-8d42-4560-bfab-10490dd1a72'],
    ['a number', 42],
  ])('rejects %s as event id', (_description, id) => {
    expect(issuePaths(withdrawalEventSchema.safeParse({ ...withdrawalEvent(), id }))).toEqual(['id']);
  });

  it.each(['2021-02-30T00:00:00Z', '2021-07-21', 'yesterday'])('rejects the created_at "%s"', (createdAt) => {
    const result = withdrawalEventSchema.safeParse(withdrawalEvent({ created_at: createdAt, object: { updated_at: createdAt } }));
    expect(issuePaths(result).sort()).toEqual(['created_at', 'object.updated_at']);
    expect(result.error?.issues[0].message).toBe('must be an RFC 3339 date-time');
  });

  it('accepts timestamps with offsets and nine fractional digits', () => {
    const result = withdrawalEventSchema.safeParse(withdrawalEvent({ created_at: '2021-07-21T16:10:00.123456789+02:00' }));
    expect(result.success).toBe(true);
  });
});

describe('directDebitEventSchema', () => {
  it('accepts a direct debit without updated_at and remittance_information', () => {
    const example = directDebitEvent();
    const event = { ...example, object: without(example.object, 'remittance_information') };
    expect(event.object).not.toHaveProperty('updated_at');
    expect(event.object).not.toHaveProperty('remittance_information');
    expect(directDebitEventSchema.safeParse(event).success).toBe(true);
  });

  it('accepts a direct debit with updated_at and remittance_information', () => {
    const event = directDebitEvent({ object: { updated_at: '2021-07-21T14:10:00Z', remittance_information: 'Savings plan' } });
    expect(directDebitEventSchema.safeParse(event).success).toBe(true);
  });

  it.each(['EUR', 'GBP'])('accepts the currency %s', (currency) => {
    expect(parsedDirectDebit({ object: { currency } }).object.currency).toBe(currency);
  });

  it.each(['DIRECT_DEBIT.NEW', 'DIRECT_DEBIT.PROCESSING', 'DIRECT_DEBIT.CONFIRMED', 'DIRECT_DEBIT.CANCELLED'])('accepts type %s', (type) => {
    expect(directDebitEventSchema.safeParse(directDebitEvent({ type })).success).toBe(true);
  });

  it('rejects a withdrawal type', () => {
    expect(issuePaths(directDebitEventSchema.safeParse(directDebitEvent({ type: 'WITHDRAWAL.NEW' })))).toEqual(['type']);
  });

  it.each(['id', 'user_id', 'account_group_id', 'mandate_id', 'cash_amount', 'currency', 'created_at'])('requires the object field %s', (field) => {
    const event = directDebitEvent();
    expect(issuePaths(directDebitEventSchema.safeParse({ ...event, object: without(event.object, field) }))).toEqual([`object.${field}`]);
  });

  it('requires cash_amount and does not accept amount in its place', () => {
    const event = directDebitEvent();
    const result = directDebitEventSchema.safeParse({ ...event, object: { ...without(event.object, 'cash_amount'), amount: '50.00' } });
    expect(issuePaths(result)).toEqual(['object.cash_amount']);
  });

  it.each([
    ['"50"', '50', true],
    ['"50.00"', '50.00', true],
    ['"50.0"', '50.0', false],
    ['"-1.00"', '-1.00', false],
    ['the number 50', 50, false],
  ])('validates cash_amount %s with the money pattern', (_description, cashAmount, valid) => {
    expect(directDebitEventSchema.safeParse(directDebitEvent({ object: { cash_amount: cashAmount } })).success).toBe(valid);
  });

  it('keeps unknown fields at event and object level', () => {
    const event = parsedDirectDebit({ extra: 'kept', object: { purpose_code: 'OTHR', taxes: [] } });
    expect(event).toMatchObject({ extra: 'kept', object: { purpose_code: 'OTHR', taxes: [] } });
  });
});

describe('paymentKindOf', () => {
  it.each([
    ['WITHDRAWAL.NEW', 'WITHDRAWAL'],
    ['WITHDRAWAL.CONFIRMED', 'WITHDRAWAL'],
    ['WITHDRAWAL.REFUNDED', 'WITHDRAWAL'],
    ['DIRECT_DEBIT.PROCESSING', 'DIRECT_DEBIT'],
    ['DIRECT_DEBIT.CANCELLED', 'DIRECT_DEBIT'],
  ])('gives the kind of %s (whether or not the status is known)', (type, kind) => {
    expect(paymentKindOf(type)).toBe(kind);
  });

  it.each(['USER.CREATED', 'ORDER.FILLED', 'ACCOUNT.UPDATED', 'WITHDRAWAL', 'WITHDRAWALS.NEW', 'withdrawal.new', 'DIRECT_DEBITS.NEW', 'DIRECT.DEBIT.NEW', ''])(
    'gives undefined for %j, a type this service does not project',
    (type) => {
      expect(paymentKindOf(type)).toBeUndefined();
    },
  );
});

describe('statusOf and kindOf', () => {
  it.each([
    ['WITHDRAWAL.NEW', 'NEW'],
    ['WITHDRAWAL.PROCESSING', 'PROCESSING'],
    ['WITHDRAWAL.CONFIRMED', 'CONFIRMED'],
    ['WITHDRAWAL.CANCELLED', 'CANCELLED'],
  ])('takes the status of a %s event from its type', (type, status) => {
    expect(statusOf(parsedWithdrawal({ type }))).toBe(status);
  });

  it('ignores the object status when it disagrees with the type', () => {
    expect(statusOf(parsedWithdrawal({ type: 'WITHDRAWAL.CONFIRMED', object: { status: 'NEW' } }))).toBe('CONFIRMED');
  });

  it('gives the status when the object has none', () => {
    const event = withdrawalEvent({ type: 'WITHDRAWAL.PROCESSING' });
    expect(statusOf(withdrawalEventSchema.parse({ ...event, object: without(event.object, 'status') }))).toBe('PROCESSING');
  });

  it('takes the status of a direct debit event from its type', () => {
    expect(statusOf(parsedDirectDebit({ type: 'DIRECT_DEBIT.CANCELLED' }))).toBe('CANCELLED');
  });

  it('gives the kind of a parsed event and the schema for each kind', () => {
    expect(kindOf(parsedWithdrawal())).toBe('WITHDRAWAL');
    expect(kindOf(parsedDirectDebit())).toBe('DIRECT_DEBIT');
    expect(schemaFor('WITHDRAWAL')).toBe(withdrawalEventSchema);
    expect(schemaFor('DIRECT_DEBIT')).toBe(directDebitEventSchema);
  });
});
