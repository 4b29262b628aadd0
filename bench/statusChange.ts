import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { CHANGES_CHANNEL } from '../src/changes/ChangeNotifications';

/** Now, in epoch milliseconds to the microsecond: comparable across the bench's processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One status change committed as the projection commits one (a history row and its NOTIFY in one
 * transaction); resolves when COMMIT has returned, with that time (epochMs).
 */
export async function commitStatusChange(pool: Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO payment_status_history
         (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, previous_status, status, status_changed)
       VALUES ('WITHDRAWAL', $1, $2, 'WITHDRAWAL.NEW', now(), 'NEW', NULL, 'NEW', true)`,
      [randomUUID(), randomUUID()],
    );
    await client.query(`SELECT pg_notify('${CHANGES_CHANNEL}', '')`);
    await client.query('COMMIT');
    return epochMs();
  } finally {
    client.release();
  }
}

/** One at a time: how many per second that makes, and the median and 99th percentile of the latencies. */
export function latencyFigures(latenciesMs: number[]): { eventsPerSecond: number; p50Ms: number; p99Ms: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return {
    eventsPerSecond: sorted.length / (sorted.reduce((sum, ms) => sum + ms, 0) / 1000),
    p50Ms: sorted[Math.floor(sorted.length / 2)],
    p99Ms: sorted[Math.ceil(sorted.length * 0.99) - 1],
  };
}
