import { Pool } from 'pg';
import { DURABLE_FLOOR_TABLE } from './durableFloorTable';
import { serveFloor } from './floorServer';

/**
 * The durable floor: the least a receiver does that acknowledges only what Postgres holds and
 * deduplicates by event id. After the bare floor's verification and parse (see floorServer.ts),
 * one statement per delivery stores every event of the payload under its id, skipping the ids
 * stored before, and the answer 200 comes only after it committed. No Express, no validation of
 * events, no queue.
 */

const POOL_SIZE = 8;

const INSERT_EVENTS_SQL = `INSERT INTO ${DURABLE_FLOOR_TABLE} (id, event)
SELECT (e->>'id')::uuid, e FROM json_array_elements($1::json->'payload') e
ON CONFLICT (id) DO NOTHING`;

serveFloor((config) => {
  const pool = new Pool({ connectionString: config.database.url, max: POOL_SIZE });
  return async (bodyText) => {
    // Named, so that each connection parses and plans it once, as the service's statements.
    const { rowCount } = await pool.query({ name: 'durable-floor-insert', text: INSERT_EVENTS_SQL, values: [bodyText] });
    return { stored: rowCount };
  };
});
