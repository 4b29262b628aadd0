import { isDeepStrictEqual } from 'node:util';
import { PaymentStatus } from '../../src/events/upvestEvents';
import { PaymentState, PaymentUpdate, applyPaymentUpdate, isFinal } from '../../src/projection/paymentState';
import { paymentUpdate, uuid } from '../../testkit/paymentEvents';

const T1 = '2021-07-21T14:10:01.000000Z';
const T2 = '2021-07-21T14:10:02.000000Z';
const T3 = '2021-07-21T14:10:03.000000Z';
const T4 = '2021-07-21T14:10:04.000000Z';
const T5 = '2021-07-21T14:10:05.000000Z';
const T6 = '2021-07-21T14:10:06.000000Z';

const RANK: Record<PaymentStatus, number> = { NEW: 0, PROCESSING: 1, CONFIRMED: 2, CANCELLED: 2 };

/** The state after applying the updates in the given order. */
function fold(updates: PaymentUpdate[]): PaymentState {
  let state: PaymentState | undefined;
  for (const update of updates) state = applyPaymentUpdate(state, update).state;
  if (state === undefined) throw new Error('fold needs at least one update');
  return state;
}

/** Every ordering of `items` (n! of them), duplicates included. */
function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i], ...tail];
  }
}

describe('permutations (test helper)', () => {
  it('yields n! orderings, each a rearrangement of the input', () => {
    const all = [...permutations([1, 2, 3, 4])];
    expect(all).toHaveLength(24);
    expect(new Set(all.map((p) => p.join(','))).size).toBe(24);
    expect(all.every((p) => [...p].sort().join(',') === '1,2,3,4')).toBe(true);
    expect([...permutations([1, 2, 3, 4, 5, 6])]).toHaveLength(720);
  });
});

describe('applyPaymentUpdate', () => {
  const NEW = paymentUpdate(uuid(1), 'NEW', T1);
  const PROCESSING = paymentUpdate(uuid(2), 'PROCESSING', T2);
  const CONFIRMED = paymentUpdate(uuid(3), 'CONFIRMED', T3);
  const CANCELLED = paymentUpdate(uuid(4), 'CANCELLED', T4);

  it('creates the state from the first event of a payment', () => {
    const applied = applyPaymentUpdate(undefined, PROCESSING);
    expect(applied).toEqual({
      state: {
        status: 'PROCESSING',
        statusEventId: uuid(2),
        statusEventCreatedAt: T2,
        lastEventId: uuid(2),
        lastEventCreatedAt: T2,
        fields: PROCESSING.fields,
      },
      previousStatus: null,
      statusChanged: true,
      stateChanged: true,
    });
  });

  it('moves forward NEW -> PROCESSING -> CONFIRMED when events arrive in order', () => {
    const afterNew = applyPaymentUpdate(undefined, NEW).state;
    const toProcessing = applyPaymentUpdate(afterNew, PROCESSING);
    expect(toProcessing).toMatchObject({ previousStatus: 'NEW', statusChanged: true, stateChanged: true });
    expect(toProcessing.state.status).toBe('PROCESSING');

    const toConfirmed = applyPaymentUpdate(toProcessing.state, CONFIRMED);
    expect(toConfirmed).toMatchObject({ previousStatus: 'PROCESSING', statusChanged: true, stateChanged: true });
    expect(toConfirmed.state).toEqual({
      status: 'CONFIRMED',
      statusEventId: uuid(3),
      statusEventCreatedAt: T3,
      lastEventId: uuid(3),
      lastEventCreatedAt: T3,
      fields: CONFIRMED.fields,
    });
  });

  it('moves NEW straight to CANCELLED', () => {
    const applied = applyPaymentUpdate(fold([NEW]), CANCELLED);
    expect(applied).toMatchObject({ previousStatus: 'NEW', statusChanged: true, state: { status: 'CANCELLED' } });
  });

  it('keeps a final status when an older PROCESSING event arrives late', () => {
    const confirmed = fold([NEW, CONFIRMED]);
    const applied = applyPaymentUpdate(confirmed, PROCESSING);

    expect(applied.state).toEqual(confirmed);
    expect(applied.previousStatus).toBe('CONFIRMED');
    expect(applied.statusChanged).toBe(false);
    expect(applied.stateChanged).toBe(false);
  });

  it('keeps a final status when an older NEW event arrives late', () => {
    const cancelled = fold([PROCESSING, CANCELLED]);
    const applied = applyPaymentUpdate(cancelled, NEW);
    expect(applied).toMatchObject({ state: cancelled, previousStatus: 'CANCELLED', statusChanged: false, stateChanged: false });
  });

  it('keeps PROCESSING when an older NEW event arrives late', () => {
    const processing = fold([PROCESSING]);
    const applied = applyPaymentUpdate(processing, NEW);
    expect(applied).toMatchObject({ state: processing, previousStatus: 'PROCESSING', statusChanged: false, stateChanged: false });
  });

  it('never moves the status back, even for a lower status with a newer created_at', () => {
    const confirmed = fold([CONFIRMED]);
    const laterProcessing = paymentUpdate(uuid(9), 'PROCESSING', T5);
    const applied = applyPaymentUpdate(confirmed, laterProcessing);

    expect(applied.state.status).toBe('CONFIRMED');
    expect(applied.state.statusEventId).toBe(uuid(3));
    expect(applied.statusChanged).toBe(false);
  });

  describe('among equal-rank non-final events', () => {
    it('lets the later PROCESSING event decide the status event', () => {
      const earlier = paymentUpdate(uuid(5), 'PROCESSING', T2);
      const later = paymentUpdate(uuid(6), 'PROCESSING', T4);

      const inOrder = applyPaymentUpdate(fold([earlier]), later);
      expect(inOrder.state).toMatchObject({ status: 'PROCESSING', statusEventId: uuid(6), statusEventCreatedAt: T4 });
      expect(inOrder).toMatchObject({ statusChanged: false, stateChanged: true });

      const outOfOrder = applyPaymentUpdate(fold([later]), earlier);
      expect(outOfOrder.state).toEqual(inOrder.state);
      expect(outOfOrder.stateChanged).toBe(false);
    });

    it('lets the higher event id win when created_at is equal', () => {
      const low = paymentUpdate(uuid(5), 'NEW', T1);
      const high = paymentUpdate(uuid(6), 'NEW', T1);
      expect(fold([low, high]).statusEventId).toBe(uuid(6));
      expect(fold([high, low]).statusEventId).toBe(uuid(6));
    });
  });

  describe('between the two final statuses', () => {
    it('keeps the earlier CONFIRMED when a later CANCELLED arrives', () => {
      const confirmed = fold([CONFIRMED]);
      const applied = applyPaymentUpdate(confirmed, CANCELLED);

      expect(applied.state.status).toBe('CONFIRMED');
      expect(applied.state.statusEventId).toBe(uuid(3));
      expect(applied.statusChanged).toBe(false);
      expect(applied.previousStatus).toBe('CONFIRMED');
    });

    it('replaces a later CANCELLED by an earlier CONFIRMED that arrives afterwards, so the order of arrival does not matter', () => {
      const cancelled = fold([CANCELLED]);
      const applied = applyPaymentUpdate(cancelled, CONFIRMED);

      expect(applied.state.status).toBe('CONFIRMED');
      expect(applied.state.statusEventId).toBe(uuid(3));
      expect(applied).toMatchObject({ previousStatus: 'CANCELLED', statusChanged: true, stateChanged: true });
      expect(applied.state).toEqual(applyPaymentUpdate(fold([CONFIRMED]), CANCELLED).state);
    });

    it('keeps the earlier CANCELLED when a later CONFIRMED arrives', () => {
      const earlyCancel = paymentUpdate(uuid(8), 'CANCELLED', T2);
      expect(fold([earlyCancel, CONFIRMED]).status).toBe('CANCELLED');
      expect(fold([CONFIRMED, earlyCancel]).status).toBe('CANCELLED');
    });

    it('lets the lower event id stand when both final events have the same created_at', () => {
      const confirmed = paymentUpdate(uuid(10), 'CONFIRMED', T3);
      const cancelled = paymentUpdate(uuid(11), 'CANCELLED', T3);
      expect(fold([confirmed, cancelled]).statusEventId).toBe(uuid(10));
      expect(fold([cancelled, confirmed]).statusEventId).toBe(uuid(10));
    });
  });

  describe('descriptive fields', () => {
    it('come from the newest event even when its status is lower', () => {
      const lateProcessing = paymentUpdate(uuid(9), 'PROCESSING', T5, { amount: '250.00', remittance_information: 'corrected' });
      const applied = applyPaymentUpdate(fold([NEW, CONFIRMED]), lateProcessing);

      expect(applied.state).toEqual({
        status: 'CONFIRMED',
        statusEventId: uuid(3),
        statusEventCreatedAt: T3,
        lastEventId: uuid(9),
        lastEventCreatedAt: T5,
        fields: { amount: '250.00', remittance_information: 'corrected' },
      });
      expect(applied).toMatchObject({ previousStatus: 'CONFIRMED', statusChanged: false, stateChanged: true });
    });

    it('are not replaced by an older event that advances the status', () => {
      const newest = paymentUpdate(uuid(9), 'PROCESSING', T5, { amount: 'newest' });
      const applied = applyPaymentUpdate(fold([newest]), CONFIRMED);

      expect(applied.state).toMatchObject({ status: 'CONFIRMED', statusEventId: uuid(3), lastEventId: uuid(9), fields: { amount: 'newest' } });
      expect(applied).toMatchObject({ statusChanged: true, stateChanged: true });
    });

    it('come from the higher event id when created_at is equal', () => {
      const low = paymentUpdate(uuid(20), 'PROCESSING', T2, { amount: 'low' });
      const high = paymentUpdate(uuid(21), 'NEW', T2, { amount: 'high' });
      expect(fold([low, high]).fields).toEqual({ amount: 'high' });
      expect(fold([high, low]).fields).toEqual({ amount: 'high' });
    });

    it('may be null, and a null value is taken over like any other', () => {
      const withNull = paymentUpdate(uuid(9), 'PROCESSING', T5, { remittance_information: null });
      expect(fold([NEW, withNull]).fields).toEqual({ remittance_information: null });
    });
  });

  describe('idempotence', () => {
    it.each([
      ['the only event', [NEW], NEW],
      ['the status event', [NEW, PROCESSING, CONFIRMED], CONFIRMED],
      ['a superseded event', [NEW, PROCESSING, CONFIRMED], PROCESSING],
      ['the newest event with a lower status', [CONFIRMED, paymentUpdate(uuid(9), 'PROCESSING', T5)], paymentUpdate(uuid(9), 'PROCESSING', T5)],
    ])('changes nothing when %s is applied again', (_description, history, again) => {
      const before = fold(history);
      const applied = applyPaymentUpdate(before, again);
      expect(applied.state).toEqual(before);
      expect(applied.stateChanged).toBe(false);
      expect(applied.statusChanged).toBe(false);
      expect(applied.previousStatus).toBe(before.status);
    });

    it('does not modify the state it is given', () => {
      const before = fold([NEW, PROCESSING]);
      const snapshot = structuredClone(before);
      applyPaymentUpdate(before, CONFIRMED);
      applyPaymentUpdate(before, paymentUpdate(uuid(9), 'NEW', T6));
      expect(before).toEqual(snapshot);
    });
  });

  it('reports isFinal for CONFIRMED and CANCELLED only', () => {
    expect((['NEW', 'PROCESSING', 'CONFIRMED', 'CANCELLED'] as const).map(isFinal)).toEqual([false, false, true, true]);
  });
});

describe('applyPaymentUpdate over every arrival order', () => {
  interface Scenario {
    updates: PaymentUpdate[];
    status: PaymentStatus;
    statusEventId: string;
    lastEventId: string;
  }

  const scenarios: Record<string, Scenario> = {
    'NEW, PROCESSING, CONFIRMED with distinct timestamps': {
      updates: [paymentUpdate(uuid(1), 'NEW', T1), paymentUpdate(uuid(2), 'PROCESSING', T2), paymentUpdate(uuid(3), 'CONFIRMED', T3)],
      status: 'CONFIRMED',
      statusEventId: uuid(3),
      lastEventId: uuid(3),
    },
    'NEW, PROCESSING, CONFIRMED all with the same timestamp': {
      updates: [paymentUpdate(uuid(3), 'NEW', T1), paymentUpdate(uuid(2), 'PROCESSING', T1), paymentUpdate(uuid(1), 'CONFIRMED', T1)],
      status: 'CONFIRMED',
      statusEventId: uuid(1),
      lastEventId: uuid(3),
    },
    'a lifecycle with both CONFIRMED and CANCELLED': {
      updates: [
        paymentUpdate(uuid(1), 'NEW', T1),
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(3), 'CANCELLED', T3),
        paymentUpdate(uuid(4), 'CONFIRMED', T4),
      ],
      status: 'CANCELLED',
      statusEventId: uuid(3),
      lastEventId: uuid(4),
    },
    'CONFIRMED and CANCELLED with the same timestamp': {
      updates: [paymentUpdate(uuid(1), 'NEW', T1), paymentUpdate(uuid(7), 'CANCELLED', T3), paymentUpdate(uuid(6), 'CONFIRMED', T3)],
      status: 'CONFIRMED',
      statusEventId: uuid(6),
      lastEventId: uuid(7),
    },
    'two PROCESSING events and a late NEW': {
      updates: [
        paymentUpdate(uuid(1), 'NEW', T1),
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(3), 'PROCESSING', T4),
        paymentUpdate(uuid(4), 'NEW', T5),
      ],
      status: 'PROCESSING',
      statusEventId: uuid(3),
      lastEventId: uuid(4),
    },
    'two PROCESSING events with the same timestamp': {
      updates: [paymentUpdate(uuid(1), 'NEW', T1), paymentUpdate(uuid(5), 'PROCESSING', T2), paymentUpdate(uuid(4), 'PROCESSING', T2)],
      status: 'PROCESSING',
      statusEventId: uuid(5),
      lastEventId: uuid(5),
    },
    'every event delivered twice': {
      updates: [
        paymentUpdate(uuid(1), 'NEW', T1),
        paymentUpdate(uuid(1), 'NEW', T1),
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(3), 'CONFIRMED', T3),
        paymentUpdate(uuid(3), 'CONFIRMED', T3),
      ],
      status: 'CONFIRMED',
      statusEventId: uuid(3),
      lastEventId: uuid(3),
    },
    'six events: two PROCESSING, both finals, and a newest NEW carrying fields': {
      updates: [
        paymentUpdate(uuid(1), 'NEW', T1),
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(3), 'PROCESSING', T3),
        paymentUpdate(uuid(4), 'CONFIRMED', T4),
        paymentUpdate(uuid(5), 'CANCELLED', T5),
        paymentUpdate(uuid(6), 'NEW', T6, { amount: '300.00' }),
      ],
      status: 'CONFIRMED',
      statusEventId: uuid(4),
      lastEventId: uuid(6),
    },
    'a duplicate final event among equal timestamps': {
      updates: [
        paymentUpdate(uuid(2), 'PROCESSING', T2),
        paymentUpdate(uuid(1), 'PROCESSING', T2),
        paymentUpdate(uuid(9), 'CANCELLED', T2),
        paymentUpdate(uuid(8), 'CONFIRMED', T2),
        paymentUpdate(uuid(8), 'CONFIRMED', T2),
      ],
      status: 'CONFIRMED',
      statusEventId: uuid(8),
      lastEventId: uuid(9),
    },
  };

  it.each(Object.entries(scenarios))('ends in the same state for every order of %s', (_name, scenario) => {
    const expected = fold(scenario.updates);
    expect(expected.status).toBe(scenario.status);
    expect(expected.statusEventId).toBe(scenario.statusEventId);
    expect(expected.lastEventId).toBe(scenario.lastEventId);
    expect(expected.fields).toEqual(scenario.updates.find((update) => update.eventId === scenario.lastEventId)?.fields);

    // Checked without expect() in the loop (up to 720 x 6 steps); violations are collected and shown at the end.
    const violations: string[] = [];
    let count = 0;
    for (const order of permutations(scenario.updates)) {
      count++;
      const orderName = order.map((update) => `${update.status}@${update.eventId.slice(-2)}`).join(' ');
      let state: PaymentState | undefined;
      for (const update of order) {
        const applied = applyPaymentUpdate(state, update);
        if (state !== undefined) {
          if (RANK[applied.state.status] < RANK[state.status]) violations.push(`${orderName}: status moved back ${state.status} -> ${applied.state.status}`);
          if (!applied.stateChanged && !isDeepStrictEqual(applied.state, state)) violations.push(`${orderName}: stateChanged false but state differs`);
          if (applied.statusChanged !== (applied.state.status !== state.status)) violations.push(`${orderName}: statusChanged is wrong`);
          if (applied.previousStatus !== state.status) violations.push(`${orderName}: previousStatus is wrong`);
        }
        state = applied.state;
      }
      if (!isDeepStrictEqual(state, expected)) violations.push(`${orderName}: ends in ${JSON.stringify(state)}`);
    }
    expect(violations).toEqual([]);
    expect(count).toBe(factorial(scenario.updates.length));
  });
});

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}
