import { eventTypeLabel } from '../../src/ingest/ingestMetrics';

describe('eventTypeLabel', () => {
  it.each([
    ['WITHDRAWAL.NEW', 'accepted', 'WITHDRAWAL.NEW'],
    ['DIRECT_DEBIT.CANCELLED', 'duplicate', 'DIRECT_DEBIT.CANCELLED'],
    ['USER.CREATED', 'ignored', 'USER'],
    ['ORDER.EXECUTION.FILLED', 'ignored', 'ORDER'],
    ['ACCOUNT', 'ignored', 'ACCOUNT'],
    ['', 'ignored', 'unknown'],
    ['user name with spaces.x', 'ignored', 'unknown'],
    [`${'X'.repeat(41)}.Y`, 'ignored', 'unknown'],
    ['WITHDRAWAL.CONFIRMED', 'quarantined', 'WITHDRAWAL.CONFIRMED'],
    ['WITHDRAWAL.REFUNDED', 'quarantined', 'WITHDRAWAL'],
    ['DIRECT_DEBIT.SOMETHING_NEW', 'quarantined', 'DIRECT_DEBIT'],
    ['USER.CREATED', 'quarantined', 'unknown'],
    [undefined, 'quarantined', 'unknown'],
  ] as const)('labels %p (%s) as %p', (type, outcome, label) => {
    expect(eventTypeLabel(type, outcome)).toBe(label);
  });
});
