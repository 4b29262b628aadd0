import { CHANGES_CHANNEL } from '../changes/ChangeNotifications';
import { Prisma, PrismaClient } from '../database/prismaClient';
import { canonicalTimestampSql } from '../events/timestamps';
import { ReceivedEvent } from '../events/receivedEvent';
import { eventKey, PaymentEvent, PaymentKind, kindOf } from '../events/upvestEvents';
import { inSpan } from '../tracing/spans';
import { applyPaymentUpdate, compareUpdates, PaymentState } from './paymentState';
import { PAYMENT_TABLES, PaymentTable, paymentUpdateOf } from './paymentTables';

/** What became of an event: it changed its payment's row, newer events had already decided it, or it was seen before. */
export type EventOutcome = 'applied' | 'superseded' | 'duplicate';

type Transaction = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

/** Rows to write, as JSON records for jsonb_to_recordset. */
interface Writes {
  /** Fetched states (reconciliation, backfill), new to webhook_events. */
  fetched: object[];
  /** Inbox events (webhooks), whose rows get their outcome. */
  projected: object[];
  history: Array<Record<string, unknown> & { status_changed: boolean }>;
  states: Record<PaymentKind, object[]>;
}

const TABLES = Object.values(PAYMENT_TABLES);

/**
 * Projects a batch of events into the status tables in one transaction of three statements:
 * lock the payments, read their rows and which events were projected before, write everything.
 * A crash therefore leaves all of a batch's effects or none, and an event whose webhook_events
 * row is marked projected is a no-op however often it comes again.
 */
export class ProjectionStore {
  constructor(private readonly prisma: PrismaClient) {}

  async projectBatch(received: ReceivedEvent[]): Promise<Map<string, EventOutcome>> {
    return this.prisma.$transaction((tx) => project(tx, received), { timeout: 30000, maxWait: 10000 });
  }

  /**
   * Rebuilds one payment's row from its events in webhook_events, by the same fold as the
   * projection: for repairing a row changed by hand or by a bug. History rows and event outcomes
   * stay as they are. Answers false when the payment has no events, and then changes nothing.
   */
  async rebuildPayment(kind: PaymentKind, paymentId: string): Promise<boolean> {
    return this.prisma.$transaction((tx) => rebuild(tx, kind, paymentId), { timeout: 30000, maxWait: 10000 });
  }
}

async function project(tx: Transaction, received: ReceivedEvent[]): Promise<Map<string, EventOutcome>> {
  // Every event counts as a duplicate until it is applied below.
  const outcomes = new Map<string, EventOutcome>(received.map(({ event }) => [event.id, 'duplicate']));
  const batch = firstOfEachEvent(received);
  const events = batch.map(({ event }) => event);
  await statement('lock payments', () => lockPayments(tx, events.map(paymentKey)));
  const { seenEventIds, states } = await statement('read current', () => readCurrent(tx, events));

  const writes: Writes = { fetched: [], projected: [], history: [], states: { WITHDRAWAL: [], DIRECT_DEBIT: [] } };
  const changed = new Map<string, PaymentKind>();
  // Oldest first, so that previous_status in the history reads naturally; the end state does not depend on it.
  const fresh = batch
    .filter(({ event }) => !seenEventIds.has(eventKey(event.id)))
    .map((item) => ({ ...item, update: paymentUpdateOf(item.event) }))
    .sort((a, b) => compareUpdates(a.update, b.update));
  for (const { event, receivedAt, source = 'webhook', update } of fresh) {
    const kind = kindOf(event);
    const key = paymentKey(event);
    const applied = applyPaymentUpdate(states.get(key), update);
    states.set(key, applied.state);
    if (applied.stateChanged) changed.set(key, kind);
    const outcome = applied.stateChanged ? 'applied' : 'superseded';
    outcomes.set(event.id, outcome);
    if (source === 'webhook') {
      writes.projected.push({ id: event.id, outcome });
    } else {
      writes.fetched.push({
        id: event.id,
        type: event.type,
        webhook_id: event.webhook_id,
        created_at: update.eventCreatedAt,
        received_at: receivedAt,
        event,
        outcome,
        source,
      });
    }
    writes.history.push({
      payment_kind: kind,
      payment_id: event.object.id,
      event_id: event.id,
      event_type: event.type,
      event_created_at: update.eventCreatedAt,
      event_status: update.status,
      previous_status: applied.previousStatus,
      status: applied.state.status,
      status_changed: applied.statusChanged,
      source,
    });
  }
  for (const [key, kind] of changed) writes.states[kind].push(stateRecord(key, states.get(key) as PaymentState));
  if (writes.history.length > 0) await statement('write', () => writeAll(tx, writes));
  return outcomes;
}

/** One of the projection's three statements, as a span of its transaction's trace. */
function statement<T>(name: string, run: () => Promise<T>): Promise<T> {
  return inSpan(`postgres ${name}`, { attributes: { 'db.system.name': 'postgresql' } }, run);
}

/** The same event twice in one batch (e.g. a redelivery picked up together with the original) is written once. */
function firstOfEachEvent(received: ReceivedEvent[]): ReceivedEvent[] {
  const seen = new Set<string>();
  return received.filter(({ event }) => {
    const key = eventKey(event.id);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Payments are keyed by kind and lower-case id: the form Postgres prints uuids in. */
function paymentKey(event: PaymentEvent): string {
  return keyOf(kindOf(event), event.object.id);
}

function keyOf(kind: PaymentKind, paymentId: string): string {
  return `${kind}:${paymentId.toLowerCase()}`;
}

/**
 * Serializes concurrent batches that touch the same payment, also before its row exists, and so
 * also concurrent deliveries of the same event. Locks are taken in key order: no deadlocks.
 */
async function lockPayments(tx: Transaction, keys: string[]): Promise<void> {
  // Raw: advisory locks have no model API.
  await tx.$queryRaw`SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))::int AS locked
     FROM (SELECT DISTINCT k FROM unnest(${keys}::text[]) AS k ORDER BY k) AS keys`;
}

/** The constant SQL of a status table. */
interface TableSql {
  name: Prisma.Sql;
  /** Its row as readCurrent reads it: timestamps in canonical form, everything else as text. */
  stateColumns: Prisma.Sql;
  /** Inserts or replaces the rows of a JSON array of state records. */
  upsert(records: string): Prisma.Sql;
}

// Table and column names come from the fixed PAYMENT_TABLES, never from input: Prisma.raw may splice them in.
const TABLE_SQL = Object.fromEntries(TABLES.map((table) => [table.kind, tableSql(table)])) as Record<PaymentKind, TableSql>;

function tableSql(table: PaymentTable): TableSql {
  const stateColumns = [
    'id::text AS id',
    'status::text AS status',
    'status_event_id::text AS status_event_id',
    `${canonicalTimestampSql('status_event_created_at')} AS status_event_created_at`,
    'last_event_id::text AS last_event_id',
    `${canonicalTimestampSql('last_event_created_at')} AS last_event_created_at`,
    ...table.columns.map(([name, type]) => (type === 'timestamptz' ? `${canonicalTimestampSql(name)} AS ${name}` : `${name}::text AS ${name}`)),
  ];
  const typed = [
    ['id', 'uuid'],
    ['status', 'payment_status'],
    ['status_event_id', 'uuid'],
    ['status_event_created_at', 'timestamptz'],
    ['last_event_id', 'uuid'],
    ['last_event_created_at', 'timestamptz'],
    ...table.columns,
  ];
  const columns = typed.map(([name]) => name);
  const name = Prisma.raw(table.table);
  const insert = Prisma.raw([...columns, 'projected_at'].join(', '));
  const select = Prisma.raw([...columns.map((column) => `x.${column}`), 'now()'].join(', '));
  const recordType = Prisma.raw(typed.map(([column, type]) => `${column} ${type}`).join(', '));
  const update = Prisma.raw([...columns.slice(1), 'projected_at'].map((column) => `${column} = EXCLUDED.${column}`).join(', '));
  return {
    name,
    stateColumns: Prisma.raw(stateColumns.join(', ')),
    // Raw: a typed upsert takes Dates, which would cut the canonical timestamps' microseconds.
    upsert: (records) => Prisma.sql`INSERT INTO ${name} (${insert})
     SELECT ${select}
     FROM jsonb_to_recordset(${records}::jsonb) AS x(${recordType})
     ON CONFLICT (id) DO UPDATE SET ${update}`,
  };
}

async function readCurrent(
  tx: Transaction,
  events: PaymentEvent[],
): Promise<{ seenEventIds: Set<string>; states: Map<string, PaymentState> }> {
  const statesOfTables = TABLES.map(({ kind }) => {
    const { name, stateColumns } = TABLE_SQL[kind];
    const paymentIds = events.filter((event) => kindOf(event) === kind).map((event) => event.object.id);
    return Prisma.sql`(SELECT coalesce(json_agg(r), '[]') FROM (SELECT ${stateColumns} FROM ${name} WHERE id = ANY(${paymentIds}::uuid[])) AS r) AS ${name}`;
  });
  // Raw: one statement for both tables and the inbox. It runs after the locks were granted, in a
  // statement of its own, so that its snapshot includes everything that the batches we waited for have committed.
  const [row] = await tx.$queryRaw<Array<Record<string, unknown>>>`SELECT
  (SELECT coalesce(json_agg(id::text), '[]') FROM webhook_events WHERE id = ANY(${events.map((event) => event.id)}::uuid[]) AND processed_at IS NOT NULL) AS seen,
  ${Prisma.join(statesOfTables, ',\n  ')}`;
  const states = new Map<string, PaymentState>();
  for (const table of TABLES) {
    for (const record of row[table.table] as Array<Record<string, string | null>>) {
      states.set(`${table.kind}:${record.id}`, {
        status: record.status as PaymentState['status'],
        statusEventId: record.status_event_id as string,
        statusEventCreatedAt: record.status_event_created_at as string,
        lastEventId: record.last_event_id as string,
        lastEventCreatedAt: record.last_event_created_at as string,
        fields: Object.fromEntries(table.columns.map(([name]) => [name, record[name]])),
      });
    }
  }
  return { seenEventIds: new Set(row.seen as string[]), states };
}

function stateRecord(key: string, state: PaymentState): object {
  return {
    id: key.slice(key.indexOf(':') + 1),
    status: state.status,
    status_event_id: state.statusEventId,
    status_event_created_at: state.statusEventCreatedAt,
    last_event_id: state.lastEventId,
    last_event_created_at: state.lastEventCreatedAt,
    ...state.fields,
  };
}

// Raw: one statement for all writes, set-based from JSON records; its data-modifying CTEs all run, in one round trip.
async function writeAll(tx: Transaction, writes: Writes): Promise<void> {
  const upserts = TABLES.map(({ kind }) => Prisma.sql`${TABLE_SQL[kind].name} AS (${TABLE_SQL[kind].upsert(JSON.stringify(writes.states[kind]))})`);
  await tx.$executeRaw`WITH
  fetched AS (
    INSERT INTO webhook_events (id, type, webhook_id, created_at, received_at, event, outcome, source, processed_at, attempts)
    SELECT x.id, x.type, x.webhook_id, x.created_at, x.received_at, x.event, x.outcome, x.source, now(), 1
    FROM jsonb_to_recordset(${JSON.stringify(writes.fetched)}::jsonb)
      AS x(id uuid, type text, webhook_id uuid, created_at timestamptz, received_at timestamptz, event json, outcome text, source event_source)
  ),
  projected AS (
    UPDATE webhook_events AS e SET outcome = x.outcome, processed_at = now(), attempts = e.attempts + 1
    FROM jsonb_to_recordset(${JSON.stringify(writes.projected)}::jsonb) AS x(id uuid, outcome text)
    WHERE e.id = x.id
  ),
  history AS (
    INSERT INTO payment_status_history
      (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, previous_status, status, status_changed, source)
    SELECT x.payment_kind, x.payment_id, x.event_id, x.event_type, x.event_created_at, x.event_status, x.previous_status, x.status, x.status_changed, x.source
    FROM jsonb_to_recordset(${JSON.stringify(writes.history)}::jsonb) AS x(payment_kind payment_kind, payment_id uuid, event_id uuid, event_type text,
      event_created_at timestamptz, event_status payment_status, previous_status payment_status, status payment_status, status_changed boolean,
      source event_source)
  ),
  ${Prisma.join(upserts, ',\n  ')},
  -- Wakes the change feed's long-polling readers once this transaction commits.
  notified AS (SELECT pg_notify(${CHANGES_CHANNEL}, '') WHERE ${writes.history.some((row) => row.status_changed)})
SELECT count(*) AS written FROM notified`;
}

async function rebuild(tx: Transaction, kind: PaymentKind, paymentId: string): Promise<boolean> {
  const key = keyOf(kind, paymentId);
  // Under the projection's lock, so that no batch writes this payment between our read and our write.
  await lockPayments(tx, [key]);
  // Every projected event has one history row, which is indexed by payment: the way to its events.
  // Raw: one join, and the schema declares no relation between the two tables.
  const rows = await tx.$queryRaw<Array<{ event: PaymentEvent }>>`SELECT e.event
    FROM payment_status_history h JOIN webhook_events e ON e.id = h.event_id
    WHERE h.payment_kind = ${kind}::payment_kind AND h.payment_id = ${paymentId}::uuid`;
  if (rows.length === 0) return false;
  let state: PaymentState | undefined;
  for (const update of rows.map(({ event }) => paymentUpdateOf(event)).sort(compareUpdates)) state = applyPaymentUpdate(state, update).state;
  await tx.$executeRaw(TABLE_SQL[kind].upsert(JSON.stringify([stateRecord(key, state as PaymentState)])));
  return true;
}
