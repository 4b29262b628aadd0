import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCliCapturing } from '../support/cliRun';
import { batchOf, withdrawalEvent } from '../../testkit/paymentEvents';
import { eventually } from '../support/testService';
import { AdminHarness, confirmedWithdrawal, failedWithdrawalJob, quarantinedIdOf, refuseAmount666, replaceQuarantinedContent, startAdminHarness, waitForFailedJobs } from '../admin/adminHarness';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdminHarness();
});

afterAll(async () => {
  await admin.stop();
});

// No Upvest API credentials: the operator's commands need only Postgres and Redis.
const cli = (...argv: string[]) => runCliCapturing(argv, admin.cliEnvironment);

describe('npm run cli -- jobs', () => {
  const events = [withdrawalEvent({ object: { amount: '666.00' } }), withdrawalEvent({ paymentId: 'c1f0c2d4-1111-4b2a-9c3d-000000000002', object: { amount: '666.00' } })];
  let allow: () => Promise<void>;

  beforeAll(async () => {
    allow = await refuseAmount666(admin.harness, 'withdrawals');
    await admin.harness.deliver(batchOf(...events));
    await waitForFailedJobs(admin.eventsQueue, events.map((event) => event.id));
  });

  it('lists failed jobs as a table or as JSON', async () => {
    const table = await cli('jobs', 'failed', '--type', 'WITHDRAWAL.');
    const json = await cli('jobs', 'failed', '--json', '--limit', '1');

    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+TYPE\s+EVENT\s+ATTEMPTS\s+FAILED AT\s+REASON$/);
    for (const event of events) expect(table.out).toContain(event.id);
    expect(table.out).toMatch(/refuse_666/);
    expect(JSON.parse(json.out)).toEqual([expect.objectContaining({ type: 'WITHDRAWAL.NEW', attemptsMade: 1 })]);
  });

  it('filters the list by reason, as retry-failed does', async () => {
    const matching = await cli('jobs', 'failed', '--reason', 'REFUSE_666', '--json');
    const none = await cli('jobs', 'failed', '--reason', 'connection refused', '--json');

    expect(JSON.parse(matching.out).map((job: { eventId: string }) => job.eventId).sort()).toEqual(events.map((event) => event.id).sort());
    expect(JSON.parse(none.out)).toEqual([]);
  });

  it('shows one job as JSON, and exits 3 for an unknown one', async () => {
    const shown = await cli('jobs', 'show', events[0].id);

    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ id: events[0].id, state: 'failed', inbox: { state: 'failed', event: events[0] } });
    expect((await cli('jobs', 'show', 'no-such-job')).code).toBe(3);
  });

  it('retries one job, exits 1 for a job that is not failed and 3 for an unknown one', async () => {
    await allow();

    const retried = await cli('jobs', 'retry', events[0].id);

    expect(retried.code).toBe(0);
    expect(retried.out).toMatch(/moved back to waiting/);
    await eventually(async () => (await admin.eventsQueue.getJobState(events[0].id)) === 'completed');
    const again = await cli('jobs', 'retry', events[0].id);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/not in the failed state/);
    expect((await cli('jobs', 'retry', 'no-such-job')).code).toBe(3);
  });

  it('retries the failed jobs that match --type and --reason', async () => {
    expect((await cli('jobs', 'retry-failed', '--type', 'DIRECT_DEBIT.')).out).toBe('retried 0 of 0 matching failed job(s)');

    const result = await cli('jobs', 'retry-failed', '--type', 'WITHDRAWAL.', '--reason', 'refuse_666', '--json');

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual({ matched: 1, retried: 1, skipped: 0 });
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: events[1].object.id as string } }));
  });

  it('exits 2 on bad usage', async () => {
    expect((await cli('jobs', 'frobnicate')).code).toBe(2);
    expect((await cli('jobs', 'failed', '--limit', '0')).code).toBe(2);
    expect((await cli('jobs', 'show')).code).toBe(2);
    expect((await cli('jobs', 'retry-failed', 'extra')).code).toBe(2);
  });
});

describe('npm run cli -- quarantine', () => {
  const paymentId = 'c1f0c2d4-3333-4b2a-9c3d-000000000001';
  const valid = withdrawalEvent({ paymentId });
  let id: bigint;

  beforeAll(async () => {
    await admin.harness.deliver(batchOf({ ...valid, object: { ...valid.object, currency: 'euro' } }));
    id = await quarantinedIdOf(admin.harness, { eventId: valid.id });
  });

  it('lists, as text or JSON, and shows the whole content', async () => {
    const list = await cli('quarantine', 'list');
    const json = await cli('quarantine', 'list', '--json', '--limit', '5');
    const shown = await cli('quarantine', 'show', String(id));

    expect(list.code).toBe(0);
    expect(list.out).toContain(`#${id}`);
    expect(list.out).toMatch(/reason: {2}invalid WITHDRAWAL.NEW event: object.currency/);
    expect(JSON.parse(json.out)[0]).toMatchObject({ id: id.toString(), eventId: valid.id });
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('"currency":"euro"');
  });

  it('reprocesses after a fix and exits 3 for an unknown id, 2 for a malformed one', async () => {
    await replaceQuarantinedContent(admin.harness, id, JSON.stringify(valid));

    const result = await cli('quarantine', 'reprocess', String(id));

    expect(result.code).toBe(0);
    expect(result.out).toBe(`#${id} reprocessed as one event: accepted 1, duplicate 0, ignored 0, quarantined 0`);
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: paymentId } }));
    expect((await cli('quarantine', 'show', String(id))).out).toMatch(/reprocessed: .*"accepted":1/);
    expect((await cli('quarantine', 'reprocess', '999999')).code).toBe(3);
    expect((await cli('quarantine', 'show', 'latest')).code).toBe(2);
  });

  it('is also `npm run quarantine`', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/tools/listQuarantine.ts', '--json', '--limit', '1'], {
      env: { ...process.env, ...admin.cliEnvironment, LOG_LEVEL: 'error' },
    });

    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ id: id.toString() })]);
  });
});

describe('npm run cli -- payments reproject', () => {
  const paymentId = 'c1f0c2d4-4444-4b2a-9c3d-000000000001';

  it('rebuilds the row and prints it; exits 3 without events and 2 on bad usage', async () => {
    await confirmedWithdrawal(admin.harness, paymentId);
    await admin.harness.prisma.$executeRawUnsafe(`UPDATE withdrawals SET status = 'PROCESSING' WHERE id = $1::uuid`, paymentId);

    const result = await cli('payments', 'reproject', 'withdrawals', paymentId);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ id: paymentId, status: 'CONFIRMED', amount: '12.00' });
    expect((await admin.harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } })).status).toBe('CONFIRMED');
    expect((await cli('payments', 'reproject', 'direct-debits', paymentId)).code).toBe(3);
    expect((await cli('payments', 'reproject', 'refunds', paymentId)).code).toBe(2);
    expect((await cli('payments', 'reproject', 'withdrawals')).code).toBe(2);
    expect((await cli('payments', 'rebuild', 'withdrawals', paymentId)).code).toBe(2);
  });
});

it('exits 1 when Redis is unreachable', async () => {
  const result = await runCliCapturing(['jobs', 'failed'], { ...admin.cliEnvironment, REDIS_URL: 'redis://127.0.0.1:1' });

  expect(result.code).toBe(1);
  expect(result.err).toMatch(/^error: /);
});

describe('npm run cli -- jobs quarantine', () => {
  const event = withdrawalEvent({ paymentId: 'c1f0c2d4-5555-4b2a-9c3d-000000000001', object: { amount: '666.00' } });

  it('sets a failed job aside into quarantine, from where it is reprocessed after the fix', async () => {
    const allow = await failedWithdrawalJob(admin, event);

    const result = await cli('jobs', 'quarantine', event.id);

    expect(result.code).toBe(0);
    const quarantineId = /quarantined as #(\d+)/.exec(result.out)?.[1] as string;
    expect(quarantineId).toBeDefined();
    expect(await admin.eventsQueue.getFailedCount()).toBe(0);
    expect((await cli('jobs', 'quarantine', event.id)).code).toBe(3);
    expect((await cli('jobs', 'quarantine')).code).toBe(2);

    await allow();
    expect((await cli('quarantine', 'reprocess', quarantineId)).out).toMatch(/accepted 1, duplicate 0/);
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: event.object.id as string } }));
  });
});
