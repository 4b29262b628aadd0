import { Pool } from 'pg';
import { PushDispatchStore } from '../../src/push/PushDispatchStore';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { eventually } from '../support/testService';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';

// A transaction open anywhere in the cluster (other test files run meanwhile) holds the feed's
// horizon back, and so the dispatch: the test waits for it longer than the default.
jest.setTimeout(120_000);

let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new Pool({ connectionString: database.url, max: 2 });
});

afterAll(async () => {
  await pool.end();
  await database.drop();
});

async function lastAnalyzed(): Promise<Date | null> {
  const { rows } = await pool.query(`SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'push_deliveries'`);
  return rows[0].last_analyze;
}

describe('PushDispatchStore', () => {
  it('analyzes push_deliveries once it has copied 10,000 rows, so that the claims are planned on its real size', async () => {
    const { subscription } = await new PushSubscriptions(pool).add({ url: 'https://hooks.example.invalid/dispatch' });
    await pool.query(
      `INSERT INTO payment_status_history (payment_kind, payment_id, event_id, event_type, event_created_at, event_status, status, status_changed)
       SELECT 'WITHDRAWAL', gen_random_uuid(), gen_random_uuid(), 'WITHDRAWAL.NEW', now(), 'NEW', 'NEW', true FROM generate_series(1, 10000)`,
    );
    const store = new PushDispatchStore(pool);
    expect(await lastAnalyzed()).toBeNull();

    await eventually(async () => {
      await store.dispatch(5000);
      const { rows } = await pool.query('SELECT count(*)::int AS count FROM push_deliveries WHERE subscription_id = $1', [subscription.id]);
      return rows[0].count === 10_000;
    }, 90_000, 'the dispatch of the 10,000 changes');

    await eventually(async () => (await lastAnalyzed()) !== null, 10_000, 'the analysis of push_deliveries');
  });
});
