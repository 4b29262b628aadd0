import { Client } from 'pg';
import { ingestEvents } from './bench/paymentEvents';

async function main() {
  const db = new Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/proto_inbox' });
  await db.connect();
  const n = 1700;
  const run = async (label: string, setup: string, fn: (body: string, events: any[]) => Promise<unknown>) => {
    await db.query(setup);
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const events = ingestEvents(n);
      const body = JSON.stringify({ payload: events });
      const t = performance.now();
      await fn(body, events);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(label.padEnd(40), 'p50', times[12].toFixed(1), 'min', times[0].toFixed(1));
  };
  const base = `DROP TABLE IF EXISTS inbox; CREATE TABLE inbox (id uuid PRIMARY KEY, type text NOT NULL, webhook_id uuid, created_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL, request_id text, job_id text, event json NOT NULL, outcome text, processed_at timestamptz, attempts int NOT NULL DEFAULT 0, last_error text);`;
  const A = (name: string) => async (body: string, events: any[]) => {
    const meta = JSON.stringify(events.map((e, i) => [i + 1, e.id, e.type, e.created_at, e.webhook_id]));
    await db.query({ name, text: `INSERT INTO inbox (id, type, webhook_id, created_at, received_at, request_id, job_id, event)
        SELECT (m->>1)::uuid, m->>2, (m->>4)::uuid, (m->>3)::timestamptz, $3, $4, $5, e.value
        FROM json_array_elements($1::json) AS m
        JOIN json_array_elements($2::json->'payload') WITH ORDINALITY AS e(value, n) ON e.n = (m->>0)::int
        ON CONFLICT DO NOTHING RETURNING id`, values: [meta, body, new Date(), 'req', 'job'] });
  };
  // alt: meta via json_to_recordset, raw via json_array_elements with ordinality zip (ROWS FROM)
  await run('A2 rows from zip + both', base + 'CREATE INDEX ON inbox (created_at); CREATE INDEX ON inbox (received_at) WHERE processed_at IS NULL;', async (body, events) => {
    const meta = JSON.stringify(events.map((e) => ({ id: e.id, type: e.type, created_at: e.created_at, webhook_id: e.webhook_id })));
    await db.query({ name: 'a6', text: `INSERT INTO inbox (id, type, webhook_id, created_at, received_at, request_id, job_id, event)
        SELECT m.id, m.type, m.webhook_id, m.created_at, $3, $4, $5, e.value
        FROM ROWS FROM (json_to_recordset($1::json) AS (id uuid, type text, created_at timestamptz, webhook_id uuid), json_array_elements($2::json->'payload')) AS m(id, type, created_at, webhook_id, value)
        JOIN LATERAL (SELECT m.value) e ON true WHERE m.id IS NOT NULL
        ON CONFLICT DO NOTHING RETURNING id`, values: [meta, body, new Date(), 'req', 'job'] });
  });
  await db.end();
}
main();
