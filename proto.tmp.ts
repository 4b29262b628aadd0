import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { ingestEvents } from './bench/paymentEvents';

const DDL = `
DROP TABLE IF EXISTS inbox;
CREATE TABLE inbox (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  webhook_id uuid,
  created_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  request_id text,
  job_id text,
  event json NOT NULL,
  outcome text,
  processed_at timestamptz,
  attempts int NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX inbox_created_at ON inbox (created_at);
CREATE INDEX inbox_pending ON inbox (received_at) WHERE processed_at IS NULL;
`;

async function main() {
  const admin = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS proto_inbox');
  await admin.query('CREATE DATABASE proto_inbox');
  await admin.end();
  const db = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/proto_inbox' });
  await db.connect();
  await db.query(DDL);
  const n = Number(process.argv[2] ?? 1700);
  const variants: Record<string, (body: string, events: any[]) => Promise<number>> = {
    // A: body as json, meta by ordinality from a second json param
    async A(body, events) {
      const meta = JSON.stringify(events.map((e, i) => [i + 1, e.id, e.type, e.created_at, e.webhook_id]));
      const r = await db.query({ name: 'A', text: `INSERT INTO inbox (id, type, webhook_id, created_at, received_at, request_id, job_id, event)
        SELECT (m->>1)::uuid, m->>2, (m->>4)::uuid, (m->>3)::timestamptz, $3, $4, $5, e.value
        FROM json_array_elements($1::json) AS m
        JOIN json_array_elements($2::json->'payload') WITH ORDINALITY AS e(value, n) ON e.n = (m->>0)::int
        ON CONFLICT DO NOTHING RETURNING id`, values: [meta, body, new Date(), 'req', 'job'] });
      return r.rowCount ?? 0;
    },
    // B: events' raw text inside one json param of records
    async B(body, events) {
      const recs = JSON.stringify(events.map((e) => ({ id: e.id, type: e.type, created_at: e.created_at, webhook_id: e.webhook_id, event: JSON.stringify(e) })));
      const r = await db.query({ name: 'B', text: `INSERT INTO inbox (id, type, webhook_id, created_at, received_at, request_id, job_id, event)
        SELECT x.id, x.type, x.webhook_id, x.created_at, $2, $3, $4, x.event::json
        FROM json_to_recordset($1::json) AS x(id uuid, type text, webhook_id uuid, created_at timestamptz, event text)
        ON CONFLICT DO NOTHING RETURNING id`, values: [recs, new Date(), 'req', 'job'] });
      return r.rowCount ?? 0;
    },
    // C: body as text, offsets in JS (ascii body), substring
    async C(body, events) {
      // compute spans by re-serializing (approximation for the prototype)
      const offs: number[] = []; const lens: number[] = [];
      let pos = '{"payload":['.length;
      for (const e of events) { const s = JSON.stringify(e); offs.push(pos + 1); lens.push(s.length); pos += s.length + 1; }
      const meta = JSON.stringify(events.map((e, i) => [e.id, e.type, e.created_at, e.webhook_id, offs[i], lens[i]]));
      const r = await db.query({ name: 'C', text: `INSERT INTO inbox (id, type, webhook_id, created_at, received_at, request_id, job_id, event)
        SELECT (m->>0)::uuid, m->>1, (m->>3)::uuid, (m->>2)::timestamptz, $3, $4, $5, substr($2::text, (m->>4)::int, (m->>5)::int)::json
        FROM json_array_elements($1::json) AS m
        ON CONFLICT DO NOTHING RETURNING id`, values: [meta, body, new Date(), 'req', 'job'] });
      return r.rowCount ?? 0;
    },
    // D: ids only
    async D(body, events) {
      const meta = JSON.stringify(events.map((e) => e.id));
      const r = await db.query({ name: 'D', text: `INSERT INTO inbox (id, type, created_at, received_at, event)
        SELECT value::uuid, 'x', now(), $2, '{}' FROM json_array_elements_text($1::json) ON CONFLICT DO NOTHING RETURNING id`, values: [meta, new Date()] });
      return r.rowCount ?? 0;
    },
  };
  for (const name of (process.argv[3] ?? 'A,B,C,D').split(',')) {
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const events = ingestEvents(n);
      const body = JSON.stringify({ payload: events });
      const t = performance.now();
      const count = await variants[name](body, events);
      times.push(performance.now() - t);
      if (count !== n) throw new Error(`${name} inserted ${count}`);
    }
    times.sort((a, b) => a - b);
    console.log(name, 'p50', times[12].toFixed(1), 'max', times[24].toFixed(1), 'min', times[0].toFixed(1));
  }
  await db.end();
}
main();
