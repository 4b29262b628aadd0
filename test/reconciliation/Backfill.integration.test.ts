import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { directDebitResource, withdrawalResource } from '../support/fakeUpvest';
import { FakeUpvestTenant, startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { runCliCapturing } from '../support/cliRun';
import { createPrismaClient, PrismaClient } from '../../src/database/prismaClient';

const WITHDRAWALS = 250;
const DIRECT_DEBITS = 30;

/** n resources created one minute apart from 2026-01-01, the first `old` of them before the --since date. */
function createdAt(index: number, old: number): string {
  const base = Date.parse('2026-01-01T00:00:00Z') + (index - old) * 60_000;
  return new Date(base).toISOString();
}

describe('npm run cli -- backfill', () => {
  let tenant: FakeUpvestTenant;
  let database: TestDatabase;
  let prisma: PrismaClient;
  let environment: Record<string, string>;

  beforeEach(async () => {
    tenant = await startFakeUpvestTenant({ UPVEST_API_MAX_RETRIES: '0', UPVEST_API_REQUESTS_PER_SECOND: '1000' });
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    environment = { ...tenant.environment, DATABASE_URL: database.url };
    // 10 withdrawals are older than --since and must not be projected.
    for (let index = 0; index < WITHDRAWALS; index += 1) {
      const resource = withdrawalResource({ created_at: createdAt(index, 10), updated_at: createdAt(index, 10), status: index % 2 ? 'CONFIRMED' : 'PROCESSING' });
      tenant.fake.withdrawals.set(resource.id, resource);
    }
    for (let index = 0; index < DIRECT_DEBITS; index += 1) {
      const resource = directDebitResource({ created_at: createdAt(index, 0), status: 'NEW' });
      tenant.fake.directDebits.set(resource.id, resource);
    }
  });

  afterEach(async () => {
    await prisma.$disconnect();
    await database.drop();
    await tenant.fake.close();
  });

  const count = async (table: string) =>
    Number((await prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const pagesRead = (path: string) => tenant.fake.requests.filter((recorded) => recorded.path === path && recorded.status === 200).map((recorded) => recorded.query.offset);

  it('pages through both lists and projects every payment created since the date', async () => {
    const result = await runCliCapturing(['backfill', '--since', '2026-01-01', '--page-size', '100'], environment);

    expect(result.code).toBe(0);
    expect(await count('withdrawals')).toBe(WITHDRAWALS - 10);
    expect(await count('direct_debits')).toBe(DIRECT_DEBITS);
    expect(pagesRead('/payments/withdrawals')).toEqual(['0', '100', '200']);
    expect(result.err).toMatch(/WITHDRAWAL: read 100 of 250, projected 100/);
    expect(result.out).toMatch(/WITHDRAWAL\s+250\s+240\s+0\s+complete/);
    const sources = await prisma.$queryRawUnsafe<Array<{ source: string }>>(`SELECT DISTINCT source::text AS source FROM payment_status_history`);
    expect(sources).toEqual([{ source: 'backfill' }]);
    const confirmed = await prisma.$queryRawUnsafe<Array<{ n: bigint }>>(`SELECT count(*) AS n FROM withdrawals WHERE status = 'CONFIRMED'`);
    expect(Number(confirmed[0].n)).toBe(120);
  });

  it('resumes after the last saved page when a run was interrupted', async () => {
    const interrupted = await runCliCapturing(['backfill', '--since', '2026-01-01', '--page-size', '100'], environment, (line) => {
      // The provider fails right after the second page was saved.
      if (line.startsWith('WITHDRAWAL: read 200')) tenant.fake.failNext(1, 503, { pathPrefix: '/payments/withdrawals' });
    });
    expect(interrupted.code).toBe(1);
    expect(interrupted.err).toMatch(/503/);

    tenant.fake.requests.length = 0;
    const resumed = await runCliCapturing(['backfill', '--since', '2026-01-01', '--page-size', '100'], environment);

    expect(resumed.code).toBe(0);
    expect(pagesRead('/payments/withdrawals')).toEqual(['200']);
    expect(await count('withdrawals')).toBe(WITHDRAWALS - 10);
    expect(await count('direct_debits')).toBe(DIRECT_DEBITS);
  });

  it('does nothing when the same --since already completed, unless --restart', async () => {
    await runCliCapturing(['backfill', '--since', '2026-01-01'], environment);
    tenant.fake.requests.length = 0;

    const again = await runCliCapturing(['backfill', '--since', '2026-01-01'], environment);
    expect(again.out).toMatch(/already complete/);
    expect(pagesRead('/payments/withdrawals')).toEqual([]);

    const restarted = await runCliCapturing(['backfill', '--since', '2026-01-01', '--restart'], environment);
    expect(restarted.code).toBe(0);
    expect(pagesRead('/payments/withdrawals')).toEqual(['0', '100', '200']);
    // Every payment again, as duplicates: no new history rows.
    expect(await count('payment_status_history')).toBe(WITHDRAWALS - 10 + DIRECT_DEBITS);
  });

  it('rejects a --since that is not a date', async () => {
    const result = await runCliCapturing(['backfill', '--since', 'yesterday-ish'], environment);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/--since is not a date/);
  });
});
