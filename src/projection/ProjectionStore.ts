import { PrismaClient } from '../database/prismaClient';
import { PaymentEvent, PaymentKind, kindOf } from '../events/upvestEvents';
import { applyPaymentUpdate, PaymentState, PaymentUpdate } from './paymentState';
import { PAYMENT_TABLES, PaymentTable, paymentUpdateOf } from './paymentTables';

export interface ReceivedEvent {
  event: PaymentEvent;
  receivedAt: string;
}

/** What became of an event: it changed its payment's row, or newer events had already decided it. */
export type EventOutcome = 'applied' | 'superseded' | 'duplicate';

type Transaction = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

interface HistoryRow {
  payment_kind: PaymentKind;
  payment_id: string;
  event_id: string;
  event_type: string;
  event_created_at: string;
  event_status: string;
  previous_status: string | null;
  status: string;
  status_changed: boolean;
}

const canonical = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * Projects a batch of events into the status tables in one transaction, so that a crash leaves
 * either all of the batch's effects or none. The event id is the primary key of webhook_events,
 * which makes a replayed event a no-op long after Redis forgot its job.
 */
export class ProjectionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async projectBatch(received: ReceivedEvent[]): Promise<Map<string, EventOutcome>> {
    return this.prisma.$transaction((tx) => this.project(tx, received), { timeout: 30000, maxWait: 10000 });
  }

  private async project(tx: Transaction, received: ReceivedEvent[]): Promise<Map<string, EventOutcome>> {
    const outcomes = new Map<string, EventOutcome>(received.map(({ event }) => [event.id, 'duplicate']));
    const claimed = await this.claimEvents(tx, received);
    const events = received.map(({ event }) => event).filter((event) => claimed.has(event.id));
    if (events.length === 0) return outcomes;

    await lockPayments(tx, events);
    const history: HistoryRow[] = [];
    for (const table of Object.values(PAYMENT_TABLES)) {
      const ofKind = events.filter((event) => kindOf(event) === table.kind);
      if (ofKind.length > 0) history.push(...(await this.projectKind(tx, table, ofKind, outcomes)));
    }
    await insertHistory(tx, history);
    await tx.$executeRawUnsafe(
      `UPDATE webhook_events AS e SET outcome = x.outcome, processed_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, outcome text) WHERE e.id = x.id`,
      JSON.stringify(events.map((event) => ({ id: event.id, outcome: outcomes.get(event.id) }))),
    );
    return outcomes;
  }

  /** Inserts the events not seen before and returns their ids; concurrent inserts of one id wait on each other. */
  private async claimEvents(tx: Transaction, received: ReceivedEvent[]): Promise<Set<string>> {
    const rows = received.map(({ event, receivedAt }) => ({
      id: event.id,
      type: event.type,
      webhook_id: event.webhook_id,
      created_at: paymentUpdateOf(event).eventCreatedAt,
      received_at: receivedAt,
      event,
    }));
    const inserted = await tx.$queryRawUnsafe<Array<{ id: string }>>(
      `INSERT INTO webhook_events (id, type, webhook_id, created_at, received_at, event, outcome)
       SELECT x.id, x.type, x.webhook_id, x.created_at, x.received_at, x.event, 'processing'
       FROM jsonb_to_recordset($1::jsonb)
         AS x(id uuid, type text, webhook_id uuid, created_at timestamptz, received_at timestamptz, event jsonb)
       ON CONFLICT (id) DO NOTHING
       RETURNING id::text AS id`,
      JSON.stringify(rows),
    );
    return new Set(inserted.map((row) => row.id));
  }

  private async projectKind(
    tx: Transaction,
    table: PaymentTable,
    events: PaymentEvent[],
    outcomes: Map<string, EventOutcome>,
  ): Promise<HistoryRow[]> {
    const states = await readStates(tx, table, [...new Set(events.map(paymentIdOf))]);
    const changed = new Set<string>();
    const history: HistoryRow[] = [];
    // Oldest first, so that previous_status in the history reads naturally; the end state does not depend on it.
    const updates = events
      .map((event) => ({ event, update: paymentUpdateOf(event) }))
      .sort((a, b) => (a.update.eventCreatedAt < b.update.eventCreatedAt ? -1 : a.update.eventCreatedAt > b.update.eventCreatedAt ? 1 : 0));
    for (const { event, update } of updates) {
      const paymentId = paymentIdOf(event);
      const applied = applyPaymentUpdate(states.get(paymentId), update);
      states.set(paymentId, applied.state);
      if (applied.stateChanged) changed.add(paymentId);
      outcomes.set(event.id, applied.stateChanged ? 'applied' : 'superseded');
      history.push(historyRow(table.kind, paymentId, event.type, update, applied.previousStatus, applied.state));
    }
    await upsertStates(
      tx,
      table,
      [...changed].map((id) => [id, states.get(id) as PaymentState]),
    );
    return history;
  }
}

/** Postgres prints uuids in lower case; keying by the same form lets rows and events meet. */
function paymentIdOf(event: PaymentEvent): string {
  return event.object.id.toLowerCase();
}

/**
 * Serializes concurrent batches that touch the same payment, also before its row exists.
 * Locks are taken in key order, so two batches cannot deadlock on each other's payments.
 */
async function lockPayments(tx: Transaction, events: PaymentEvent[]): Promise<void> {
  const keys = [...new Set(events.map((event) => `${kindOf(event)}:${paymentIdOf(event)}`))];
  await tx.$queryRawUnsafe(
    `SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))::int AS locked
     FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) AS keys`,
    keys,
  );
}

async function readStates(tx: Transaction, table: PaymentTable, ids: string[]): Promise<Map<string, PaymentState>> {
  const fieldSelect = table.columns
    .map(([name, type]) => (type === 'timestamptz' ? `${canonical(name)} AS ${name}` : `${name}::text AS ${name}`))
    .join(', ');
  const rows = await tx.$queryRawUnsafe<Array<Record<string, string | null>>>(
    `SELECT id::text AS id, status::text AS status,
            status_event_id::text AS status_event_id, ${canonical('status_event_created_at')} AS status_event_created_at,
            last_event_id::text AS last_event_id, ${canonical('last_event_created_at')} AS last_event_created_at,
            ${fieldSelect}
     FROM ${table.table} WHERE id = ANY($1::uuid[])`,
    ids,
  );
  return new Map(
    rows.map((row) => [
      row.id as string,
      {
        status: row.status as PaymentState['status'],
        statusEventId: row.status_event_id as string,
        statusEventCreatedAt: row.status_event_created_at as string,
        lastEventId: row.last_event_id as string,
        lastEventCreatedAt: row.last_event_created_at as string,
        fields: Object.fromEntries(table.columns.map(([name]) => [name, row[name]])),
      },
    ]),
  );
}

async function upsertStates(tx: Transaction, table: PaymentTable, states: Array<[string, PaymentState]>): Promise<void> {
  if (states.length === 0) return;
  const fieldNames = table.columns.map(([name]) => name);
  const columns = ['id', 'status', 'status_event_id', 'status_event_created_at', 'last_event_id', 'last_event_created_at', ...fieldNames];
  const recordTypes = [
    'id uuid',
    'status payment_status',
    'status_event_id uuid',
    'status_event_created_at timestamptz',
    'last_event_id uuid',
    'last_event_created_at timestamptz',
    ...table.columns.map(([name, type]) => `${name} ${type}`),
  ].join(', ');
  const rows = states.map(([id, state]) => ({
    id,
    status: state.status,
    status_event_id: state.statusEventId,
    status_event_created_at: state.statusEventCreatedAt,
    last_event_id: state.lastEventId,
    last_event_created_at: state.lastEventCreatedAt,
    ...state.fields,
  }));
  await tx.$executeRawUnsafe(
    `INSERT INTO ${table.table} (${columns.join(', ')}, projected_at)
     SELECT ${columns.map((column) => `x.${column}`).join(', ')}, now()
     FROM jsonb_to_recordset($1::jsonb) AS x(${recordTypes})
     ON CONFLICT (id) DO UPDATE SET ${[...columns.slice(1), 'projected_at'].map((column) => `${column} = EXCLUDED.${column}`).join(', ')}`,
    JSON.stringify(rows),
  );
}

function historyRow(
  kind: PaymentKind,
  paymentId: string,
  eventType: string,
  update: PaymentUpdate,
  previousStatus: string | null,
  state: PaymentState,
): HistoryRow {
  return {
    payment_kind: kind,
    payment_id: paymentId,
    event_id: update.eventId,
    event_type: eventType,
    event_created_at: update.eventCreatedAt,
    event_status: update.status,
    previous_status: previousStatus,
    status: state.status,
    status_changed: previousStatus !== state.status,
  };
}

async function insertHistory(tx: Transaction, rows: HistoryRow[]): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO payment_status_history
       (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, previous_status, status, status_changed)
     SELECT x.payment_kind, x.payment_id, x.event_id, x.event_type, x.event_created_at, x.event_status, x.previous_status, x.status, x.status_changed
     FROM jsonb_to_recordset($1::jsonb) AS x(payment_kind payment_kind, payment_id uuid, event_id uuid, event_type text,
       event_created_at timestamptz, event_status payment_status, previous_status payment_status, status payment_status, status_changed boolean)`,
    JSON.stringify(rows),
  );
}
