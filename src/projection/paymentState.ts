import { PaymentStatus } from '../events/upvestEvents';

/** Descriptive column values of a payment, by column name; values as the provider sent them. */
export type PaymentFields = Record<string, string | null>;

/** One event as the projection sees it. Timestamps are canonical (see events/timestamps.ts). */
export interface PaymentUpdate {
  eventId: string;
  eventCreatedAt: string;
  status: PaymentStatus;
  fields: PaymentFields;
}

/** A payment's projected state: everything in its row that events decide. */
export interface PaymentState {
  status: PaymentStatus;
  statusEventId: string;
  statusEventCreatedAt: string;
  lastEventId: string;
  lastEventCreatedAt: string;
  fields: PaymentFields;
}

export interface AppliedUpdate {
  state: PaymentState;
  previousStatus: PaymentStatus | null;
  statusChanged: boolean;
  /** False when the event was already reflected or superseded by newer ones. */
  stateChanged: boolean;
}

const RANK: Record<PaymentStatus, number> = { NEW: 0, PROCESSING: 1, CONFIRMED: 2, CANCELLED: 2 };

export function isFinal(status: PaymentStatus): boolean {
  return RANK[status] === 2;
}

/** Orders events by provider time; the event id breaks ties so that every order agrees. */
function compareEventTime(a: { createdAt: string; id: string }, b: { createdAt: string; id: string }): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Orders two events in provider time, as the projection does. */
export function compareUpdates(a: PaymentUpdate, b: PaymentUpdate): number {
  return compareEventTime({ createdAt: a.eventCreatedAt, id: a.eventId }, { createdAt: b.eventCreatedAt, id: b.eventId });
}

/**
 * Whether the event's status should replace the current one. Status only moves forward;
 * among equal ranks the later event wins, except between final states: a final status never
 * changes, so of two final events the earlier one stands. Being a strict total order, this
 * makes the result independent of the order in which events arrive.
 */
function statusWins(update: PaymentUpdate, state: PaymentState): boolean {
  const rankDifference = RANK[update.status] - RANK[state.status];
  if (rankDifference !== 0) return rankDifference > 0;
  const order = compareEventTime(
    { createdAt: update.eventCreatedAt, id: update.eventId },
    { createdAt: state.statusEventCreatedAt, id: state.statusEventId },
  );
  return isFinal(update.status) ? order < 0 : order > 0;
}

/** Descriptive fields come from the newest event, whatever its status. */
function fieldsWin(update: PaymentUpdate, state: PaymentState): boolean {
  return compareEventTime({ createdAt: update.eventCreatedAt, id: update.eventId }, { createdAt: state.lastEventCreatedAt, id: state.lastEventId }) > 0;
}

/** Applies one event to a payment's state. Pure: the same events in any order give the same state. */
export function applyPaymentUpdate(state: PaymentState | undefined, update: PaymentUpdate): AppliedUpdate {
  if (state === undefined) {
    return {
      state: {
        status: update.status,
        statusEventId: update.eventId,
        statusEventCreatedAt: update.eventCreatedAt,
        lastEventId: update.eventId,
        lastEventCreatedAt: update.eventCreatedAt,
        fields: update.fields,
      },
      previousStatus: null,
      statusChanged: true,
      stateChanged: true,
    };
  }
  const takeStatus = statusWins(update, state);
  const takeFields = fieldsWin(update, state);
  const next: PaymentState = {
    ...state,
    ...(takeStatus && { status: update.status, statusEventId: update.eventId, statusEventCreatedAt: update.eventCreatedAt }),
    ...(takeFields && { lastEventId: update.eventId, lastEventCreatedAt: update.eventCreatedAt, fields: update.fields }),
  };
  return {
    state: next,
    previousStatus: state.status,
    statusChanged: next.status !== state.status,
    stateChanged: takeStatus || takeFields,
  };
}
