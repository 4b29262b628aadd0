import { z } from 'zod';
import { compileCheck } from '../../src/events/compiledCheck';
import { directDebitEventSchema, isValidEvent, PaymentKind, schemaFor, withdrawalEventSchema } from '../../src/events/upvestEvents';
import { directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';

/** Values a field may be given: valid ones of every field's kind, and broken ones. */
const FIELD_VALUES: unknown[] = [
  undefined,
  null,
  0,
  true,
  '',
  'x'.repeat(141),
  [],
  {},
  '2021-07-21T14:10:00Z',
  '2021-07-21t14:10:00.123456789+02:00',
  '2021-02-29T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '1ea60f56-b67b-61fc-829a-0242ac130003',
  '1EA60F56-B67B-61FC-829A-0242AC13000',
  '200.00',
  '200.5',
  'EUR',
  'eur',
  'NEW',
  'WITHDRAWAL.NEW',
  'DIRECT_DEBIT.CONFIRMED',
  'WITHDRAWAL.REFUNDED',
];

/** Each valid event, and variants of it with one field (at its top or in its object) set to each of FIELD_VALUES. */
function variantsOf(event: Record<string, unknown>): unknown[] {
  const object = event.object as Record<string, unknown>;
  const keys = [...Object.keys(event), 'extra'];
  const objectKeys = [...Object.keys(object), 'status', 'purpose_code', 'extra'];
  return [
    event,
    ...keys.flatMap((key) => FIELD_VALUES.map((value) => ({ ...event, [key]: value }))),
    ...objectKeys.flatMap((key) => FIELD_VALUES.map((value) => ({ ...event, object: { ...object, [key]: value } }))),
    null,
    [],
    'not an event',
  ];
}

describe('compileCheck', () => {
  it.each([
    ['WITHDRAWAL', withdrawalEvent()],
    ['DIRECT_DEBIT', directDebitEvent()],
  ] as const)('answers as the %s event schema does, for the event and every variant of a field', (kind: PaymentKind, event) => {
    const schema = schemaFor(kind);
    const disagreements = variantsOf(event as Record<string, unknown>).filter((value) => isValidEvent(kind, value) !== schema.safeParse(value).success);
    expect(disagreements).toEqual([]);
  });

  it('leaves the value as it is: a valid event is its own parsed form', () => {
    const event = withdrawalEvent({ object: { a_field_of_a_newer_api: [1, 2] } });
    expect(isValidEvent('WITHDRAWAL', event)).toBe(true);
    expect(withdrawalEventSchema.parse(event)).toEqual(event);
    expect(directDebitEventSchema.safeParse(event).success).toBe(false);
  });

  it.each([
    ['an object that strips unknown keys', z.object({ a: z.string() })],
    ['a strict object', z.strictObject({ a: z.string() })],
    ['a number', z.number()],
    ['a string with a transform', z.string().transform((value) => value.trim())],
    ['a string email format', z.email()],
  ])('refuses to compile %s, whose check it would get wrong', (_name, schema) => {
    expect(() => compileCheck(schema as z.ZodType)).toThrow(/compileCheck/);
  });
});
