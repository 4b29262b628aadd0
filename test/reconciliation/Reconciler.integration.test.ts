import crypto from 'node:crypto';
import { createLogger } from '../../src/logging/logger';
import { ProjectionStore } from '../../src/projection/ProjectionStore';
import { UpvestApi } from '../../src/provider/UpvestApi';
import { UpvestApiClient } from '../../src/provider/UpvestApiClient';
import { Reconciler } from '../../src/reconciliation/Reconciler';
import { ReconciliationStore } from '../../src/reconciliation/ReconciliationStore';
import { ReconciliationInterruptedError } from '../../src/reconciliation/errors';
import { loadConfig } from '../../src/config/config';
import { directDebitResource, withdrawalResource } from '../support/fakeUpvest';
import { FakeUpvestTenant, startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { batchOf, directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { eventually, startTestService, TestService } from '../support/testService';

const logger = createLogger('error', true);

describe('reconciliation', () => {
  let tenant: FakeUpvestTenant;
  let service: TestService;

  beforeEach(async () => {
    tenant = await startFakeUpvestTenant();
  });

  afterEach(async () => {
    await service.stop();
    await tenant.fake.close();
  });

  async function statusOf(table: string, id: string): Promise<string | undefined> {
    const rows = await service.prisma.$queryRawUnsafe<Array<{ status: string }>>(`SELECT status::text AS status FROM ${table} WHERE id = $1::uuid`, id);
    return rows[0]?.status;
  }

  async function historyOf(id: string): Promise<Array<{ event_status: string; status: string; source: string }>> {
    return service.prisma.$queryRawUnsafe(
      `SELECT event_status::text AS event_status, status::text AS status, source::text AS source
       FROM payment_status_history WHERE payment_id = $1::uuid ORDER BY event_created_at, id`,
      id,
    );
  }

  /** Delivers NEW and PROCESSING for a withdrawal and waits until the row shows PROCESSING. */
  async function processingWithdrawal(paymentId: string): Promise<void> {
    const events = ['NEW', 'PROCESSING'].map((status, index) =>
      withdrawalEvent({ paymentId, status: status as 'NEW' | 'PROCESSING', createdAt: `2026-11-01T10:0${index}:00Z` }),
    );
    expect((await service.deliver(batchOf(...events))).status).toBe(200);
    await eventually(async () => (await statusOf('withdrawals', paymentId)) === 'PROCESSING', 15000, 'PROCESSING row');
  }

  function reconcilerFor(environment: Record<string, string>): Reconciler {
    const config = loadConfig({ ...tenant.environment, DATABASE_URL: service.database.url, ...environment });
    const api = new UpvestApi(new UpvestApiClient({ ...config.upvestApi!, logger }));
    return new Reconciler(new ReconciliationStore(service.prisma), api, new ProjectionStore(service.prisma), logger, config.reconciliation);
  }

  it('corrects a row whose final webhook never arrived, recorded with source reconciliation', async () => {
    service = await startTestService({ ...tenant.environment, RECONCILIATION_INTERVAL_SECONDS: '0' });
    const paymentId = crypto.randomUUID();
    await processingWithdrawal(paymentId);
    tenant.fake.withdrawals.set(paymentId, withdrawalResource({ id: paymentId, status: 'CONFIRMED', updated_at: '2026-11-01T11:00:00Z' }));

    const report = await reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '0' }).run();

    expect(report).toMatchObject({ checked: 1, corrected: 1, failed: 0, oldestNonFinalSeconds: null });
    expect(await statusOf('withdrawals', paymentId)).toBe('CONFIRMED');
    expect((await historyOf(paymentId)).map((row) => [row.event_status, row.status, row.source])).toEqual([
      ['NEW', 'NEW', 'webhook'],
      ['PROCESSING', 'PROCESSING', 'webhook'],
      ['CONFIRMED', 'CONFIRMED', 'reconciliation'],
    ]);
  });

  it('changes nothing for a payment the provider still reports in the same status, and checks it again only after the threshold', async () => {
    service = await startTestService({ ...tenant.environment, RECONCILIATION_INTERVAL_SECONDS: '0' });
    const paymentId = crypto.randomUUID();
    await processingWithdrawal(paymentId);
    tenant.fake.withdrawals.set(paymentId, withdrawalResource({ id: paymentId, status: 'PROCESSING', updated_at: '2026-11-01T10:01:00Z' }));

    const first = await reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '0' }).run();
    const second = await reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '0' }).run();
    const withinThreshold = await reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '3600' }).run();

    expect(first).toMatchObject({ checked: 1, corrected: 0 });
    expect(first.oldestNonFinalSeconds).toBeGreaterThan(0);
    expect(second).toMatchObject({ checked: 1, corrected: 0 });
    expect(withinThreshold).toMatchObject({ checked: 0 });
    expect(await statusOf('withdrawals', paymentId)).toBe('PROCESSING');
    // The same fetched state twice is one event: one reconciliation row at most.
    expect((await historyOf(paymentId)).filter((row) => row.source === 'reconciliation')).toHaveLength(1);
  });

  it('keeps going when one payment cannot be fetched', async () => {
    service = await startTestService({ ...tenant.environment, RECONCILIATION_INTERVAL_SECONDS: '0', UPVEST_API_MAX_RETRIES: '0' });
    const missing = crypto.randomUUID();
    const found = crypto.randomUUID();
    await processingWithdrawal(missing);
    await processingWithdrawal(found);
    tenant.fake.withdrawals.set(found, withdrawalResource({ id: found, status: 'CANCELLED', updated_at: '2026-11-01T11:00:00Z' }));

    const report = await reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '0', UPVEST_API_MAX_RETRIES: '0' }).run();

    expect(report).toMatchObject({ checked: 2, corrected: 1, failed: 1 });
    expect(await statusOf('withdrawals', found)).toBe('CANCELLED');
    expect(await statusOf('withdrawals', missing)).toBe('PROCESSING');
  });

  it('stops the run when the provider is unavailable, leaving the payments not reached first in line', async () => {
    service = await startTestService({ ...tenant.environment, RECONCILIATION_INTERVAL_SECONDS: '0' });
    const [first, second] = [crypto.randomUUID(), crypto.randomUUID()];
    await processingWithdrawal(first);
    await processingWithdrawal(second);
    for (const id of [first, second]) tenant.fake.withdrawals.set(id, withdrawalResource({ id, status: 'CONFIRMED', updated_at: '2026-11-01T11:00:00Z' }));
    tenant.fake.failNext(1, 503, { pathPrefix: '/payments' });
    const reconciler = reconcilerFor({ RECONCILIATION_STALE_AFTER_SECONDS: '0', UPVEST_API_MAX_RETRIES: '0' });

    await expect(reconciler.run()).rejects.toBeInstanceOf(ReconciliationInterruptedError);
    expect(tenant.fake.requests.filter(({ path }) => path.startsWith('/payments'))).toHaveLength(1);
    const marked = await service.prisma.$queryRawUnsafe<unknown[]>(`SELECT 1 FROM withdrawals WHERE reconciled_at IS NOT NULL`);
    expect(marked).toHaveLength(0);

    expect(await reconciler.run()).toMatchObject({ checked: 2, corrected: 2, failed: 0 });
  });

  it('runs on its schedule inside the worker, and a late webhook does not undo its correction', async () => {
    service = await startTestService({ ...tenant.environment, RECONCILIATION_INTERVAL_SECONDS: '1', RECONCILIATION_STALE_AFTER_SECONDS: '0' });
    const paymentId = crypto.randomUUID();
    expect((await service.deliver(batchOf(directDebitEvent({ paymentId, status: 'PROCESSING', createdAt: '2026-11-01T10:00:00Z' })))).status).toBe(200);
    await eventually(async () => (await statusOf('direct_debits', paymentId)) === 'PROCESSING', 15000, 'PROCESSING row');
    tenant.fake.directDebits.set(paymentId, directDebitResource({ id: paymentId, status: 'CONFIRMED' }));

    await eventually(async () => (await statusOf('direct_debits', paymentId)) === 'CONFIRMED', 15000, 'reconciled row');
    expect((await service.deliver(batchOf(directDebitEvent({ paymentId, status: 'PROCESSING', createdAt: '2026-11-01T10:30:00Z' })))).status).toBe(200);
    await eventually(async () => (await historyOf(paymentId)).length === 3, 15000, 'late event recorded');
    expect(await statusOf('direct_debits', paymentId)).toBe('CONFIRMED');
  });
});
