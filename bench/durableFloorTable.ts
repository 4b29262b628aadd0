import { Pool } from 'pg';

/**
 * The durable floor's table (see durableFloorServer.ts), in the run's own database: only a
 * primary key, so that an insert costs no more than storing the event and deduplicating its id.
 */
export const DURABLE_FLOOR_TABLE = 'durable_floor_events';

/** Once the service has created the run's database; dropped with it at the end. */
export async function createDurableFloorTable(pool: Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${DURABLE_FLOOR_TABLE} (id uuid PRIMARY KEY, event json NOT NULL)`);
}

/** Before each scenario: the floor must see only new ids, as the service does. */
export async function emptyDurableFloorTable(pool: Pool): Promise<void> {
  await pool.query(`TRUNCATE ${DURABLE_FLOOR_TABLE}`);
}

export async function durableFloorRowCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${DURABLE_FLOOR_TABLE}`);
  return rows[0].count;
}
