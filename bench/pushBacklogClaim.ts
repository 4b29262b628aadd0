import { Pool } from 'pg';
import { PushDeliveryStore } from '../src/push/PushDeliveryStore';
import { PushSubscriptions } from '../src/push/PushSubscriptions';
import { formatNumber, ResultRow, TargetCheck } from './report';
import { latencyFigures } from './statusChange';

/** Payments whose first change is failing, each with two later changes waiting behind it. */
const BACKLOG_PAYMENTS = 100_000;
const CHANGES_PER_PAYMENT = 3;
const CLAIM_SAMPLES = 200;
const CLAIM_TARGET_P99_MS = 20;
const LEASE_MS = 35_000;

/**
 * A lane's claim while its subscriber is down with a large backlog: 300,000 undelivered changes of
 * 100,000 payments, whose first changes wait for their retry. The lane claims on every status
 * change committed anywhere and every poll interval, so a claim must not cost in proportion to
 * the backlog. Measured on the statement itself, for a disabled subscription (no worker's lane
 * takes part): first the claims that park the waiting changes, then idle claims.
 */
export async function measureBacklogClaim(pool: Pool): Promise<{ row: ResultRow; target: TargetCheck }> {
  const subscriptions = new PushSubscriptions(pool);
  const { subscription } = await subscriptions.add({ url: 'https://backlog.bench.invalid/' });
  try {
    await subscriptions.disable(subscription.id);
    const waiting = BACKLOG_PAYMENTS * CHANGES_PER_PAYMENT;
    // Change n belongs to payment n % BACKLOG_PAYMENTS, so the first BACKLOG_PAYMENTS changes are the first of each payment.
    await pool.query(
      `INSERT INTO push_deliveries (subscription_id, history_id, transaction_id, payment_kind, payment_id, recorded_at, attempts, next_attempt_at)
       SELECT $1, n, (1000 + n / 100)::text::xid8, 'WITHDRAWAL', md5((n % $2)::text)::uuid, now(),
              CASE WHEN n < $2 THEN 5 ELSE 0 END, CASE WHEN n < $2 THEN now() + interval '1 hour' ELSE now() END
       FROM generate_series(0, $3 - 1) AS n`,
      [subscription.id, BACKLOG_PAYMENTS, waiting],
    );
    await pool.query('ANALYZE push_deliveries');
    const store = new PushDeliveryStore(pool);
    const parkingStarted = Date.now();
    let parkingClaims = 0;
    for (;;) {
      parkingClaims += 1;
      if ((await store.claim(subscription.id, 16, LEASE_MS)).parked === 0) break;
    }
    const parkingMs = Date.now() - parkingStarted;
    const latenciesMs: number[] = [];
    for (let sample = 0; sample < CLAIM_SAMPLES; sample += 1) {
      const started = process.hrtime.bigint();
      await store.claim(subscription.id, 16, LEASE_MS);
      latenciesMs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const { p50Ms, p99Ms } = latencyFigures(latenciesMs);
    return {
      row: {
        scenario: `push: claim, subscriber down, ${formatNumber(waiting, 0)} waiting`,
        p50Ms,
        p99Ms,
        sample: `${CLAIM_SAMPLES} claims after ${parkingClaims} that parked the waiting changes in ${(parkingMs / 1000).toFixed(1)} s`,
      },
      target: { name: `push: claim with a ${formatNumber(waiting, 0)}-change backlog p99 <= ${CLAIM_TARGET_P99_MS} ms`, value: formatNumber(p99Ms, 1), met: p99Ms <= CLAIM_TARGET_P99_MS },
    };
  } finally {
    await subscriptions.delete(subscription.id);
  }
}
