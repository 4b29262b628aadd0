import { createHash } from 'node:crypto';
import request from 'supertest';
import { batchOf, directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { eventually } from '../support/testService';
import {
  AdminHarness,
  AUTHORIZED,
  confirmedWithdrawal,
  failedWithdrawalJob,
  quarantinedIdOf,
  refuseAmount666,
  replaceQuarantinedContent,
  startAdminHarness,
  waitForFailedJobs,
} from './adminHarness';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdminHarness();
});

afterAll(async () => {
  await admin.stop();
});

const get = (path: string) => request(admin.app).get(path).set(AUTHORIZED);
const post = (path: string, body?: object) => request(admin.app).post(path).set(AUTHORIZED).send(body);

describe('admin authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { Authorization: 'Bearer not-the-admin-token-at-all' }],
    ['the right token in another scheme', { Authorization: `Basic ${AUTHORIZED.Authorization.slice(7)}` }],
  ])('answers 401 problem+json with a Bearer challenge for %s', async (_case, headers) => {
    const response = await request(admin.app).get('/admin/jobs/failed').set(headers);

    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(response.text)).toMatchObject({ status: 401, title: 'Unauthorized' });
  });

  it.each(['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png', '/admin/quarantine/1', '/admin/nothing-here'])(
    'keeps %s behind the token too',
    async (path) => {
      expect((await request(admin.app).get(path)).status).toBe(401);
    },
  );

  it('lets the bull-board API through with the token', async () => {
    const response = await get('/admin/queues/api/queues');

    expect(response.status).toBe(200);
    expect(JSON.stringify(response.body)).toContain('upvest-events');
  });
});

describe('bull-board actions', () => {
  const put = (path: string) => request(admin.app).put(`/admin/queues/api/queues/${path}`).set(AUTHORIZED);

  it.each([
    'upvest-events/obliterate',
    'upvest-events/empty',
    'upvest-events/clean/failed',
    'upvest-events/some-job-id/clean',
    'upvest-events/concurrency',
    'upvest-reconciliation/rate-limit',
  ])('refuses %s, which would delete or rewrite queued events, with 403', async (path) => {
    const response = await put(path);

    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses adding or editing jobs', async () => {
    expect((await request(admin.app).post('/admin/queues/api/queues/upvest-events/add').set(AUTHORIZED).send({ name: 'x', data: {} })).status).toBe(403);
    expect((await request(admin.app).patch('/admin/queues/api/queues/upvest-events/some-job-id/update-data').set(AUTHORIZED).send({})).status).toBe(403);
  });

  it('lets pausing and resuming through', async () => {
    expect((await put('upvest-reconciliation/pause')).status).toBe(200);
    expect((await put('upvest-reconciliation/resume')).status).toBe(200);
  });

  // bull-board matches its routes case-insensitively and in its own order: these look like a job's
  // retry or promote but reach its clean-all route, or are spelled unlike the route they reach.
  it.each([
    'upvest-events/clean/retry',
    'upvest-events/clean/promote',
    'upvest-events/CLEAN/promote',
    'upvest-events/Clean/retry',
    'upvest-events/some-job-id/RETRY',
    'upvest-events/some-job-id/retry/',
    'upvest-events/PAUSE',
    'RESUME',
  ])('refuses %s, which is not spelled as a retry, promote, pause or resume route, with 403', async (path) => {
    const response = await put(path);

    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it.each([
    ['POST', 'upvest-reconciliation/pause'],
    ['PATCH', 'upvest-events/some-job-id/retry'],
    ['DELETE', 'upvest-events/some-job-id/promote'],
    ['POST', 'upvest-events/retry/failed'],
  ])('refuses %s %s: the path of an allowed action with another method', async (method, path) => {
    const response = await request(admin.app)[method.toLowerCase() as 'post' | 'patch' | 'delete'](`/admin/queues/api/queues/${path}`).set(AUTHORIZED);

    expect(response.status).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('failed jobs', () => {
  const withdrawals = [withdrawalEvent({ object: { amount: '666.00' } }), withdrawalEvent({ paymentId: 'f1f0c2d4-1111-4b2a-9c3d-000000000002', object: { amount: '666.00' } })];
  const directDebit = directDebitEvent({ object: { cash_amount: '666.00' } });
  let allowWithdrawals: () => Promise<void>;
  let allowDirectDebits: () => Promise<void>;

  beforeAll(async () => {
    allowWithdrawals = await refuseAmount666(admin.harness, 'withdrawals');
    allowDirectDebits = await refuseAmount666(admin.harness, 'direct_debits');
    await admin.harness.deliver(batchOf(...withdrawals, directDebit));
    await waitForFailedJobs(admin.eventsQueue, [...withdrawals, directDebit].map((event) => event.id));
  });

  it('lists them newest first with their reason, filtered by type or prefix and by reason, and paged', async () => {
    const all = await get('/admin/jobs/failed');

    expect(all.status).toBe(200);
    expect(all.body.jobs).toHaveLength(3);
    expect(all.body.jobs[0]).toEqual({
      id: expect.any(String),
      type: expect.stringMatching(/^(WITHDRAWAL|DIRECT_DEBIT)\.NEW$/),
      eventId: expect.any(String),
      failedReason: expect.stringMatching(/refuse_666/),
      attemptsMade: 1,
      createdAt: expect.any(String),
      processedAt: expect.any(String),
      finishedAt: expect.any(String),
    });
    const prefix = await get('/admin/jobs/failed?type=WITHDRAWAL.');
    expect(prefix.body.jobs.map((job: { eventId: string }) => job.eventId).sort()).toEqual(withdrawals.map((event) => event.id).sort());
    const exact = await get('/admin/jobs/failed?type=DIRECT_DEBIT.NEW');
    expect(exact.body.jobs.map((job: { eventId: string }) => job.eventId)).toEqual([directDebit.id]);
    expect((await get('/admin/jobs/failed?type=DIRECT_DEBIT')).body.jobs).toEqual([]);
    expect((await get('/admin/jobs/failed?failedReasonContains=REFUSE_666&type=WITHDRAWAL.')).body.jobs).toHaveLength(2);
    expect((await get('/admin/jobs/failed?failedReasonContains=connection%20refused')).body.jobs).toEqual([]);
    const paged = await get('/admin/jobs/failed?limit=1&offset=2');
    expect(paged.body).toMatchObject({ limit: 1, offset: 2, jobs: [all.body.jobs[2]] });
    expect((await get('/admin/jobs/failed?limit=0')).status).toBe(400);
    expect((await get('/admin/jobs/failed?offset=-1')).status).toBe(400);
  });

  it('inspects one job with its data, its stack trace and its event as the inbox holds it', async () => {
    const response = await get(`/admin/jobs/${directDebit.id}`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: directDebit.id,
      state: 'failed',
      type: 'DIRECT_DEBIT.NEW',
      data: { events: [{ id: directDebit.id, type: 'DIRECT_DEBIT.NEW' }] },
      inbox: { state: 'failed', event: directDebit, lastError: expect.stringMatching(/refuse_666/) },
    });
    expect(response.body.inbox.attempts).toBeGreaterThanOrEqual(1);
    expect(response.body.stacktrace.join('\n')).toMatch(/UnrecoverableError|refuse_666/);
    expect((await get('/admin/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('retries one job after the fix; a job that is not failed is a 409, an unknown one a 404', async () => {
    await allowWithdrawals();
    const [first] = withdrawals;

    const response = await post(`/admin/jobs/${first.id}/retry`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: first.id, retried: true });
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: first.object.id as string } }));
    await eventually(async () => (await admin.eventsQueue.getJobState(first.id)) === 'completed');
    expect((await post(`/admin/jobs/${first.id}/retry`)).status).toBe(409);
    expect((await post('/admin/jobs/00000000-0000-4000-8000-000000000000/retry')).status).toBe(404);
  });

  it('retries every failed job that matches a filter and answers the counts', async () => {
    const none = await post('/admin/jobs/failed/retry', { type: 'WITHDRAWAL.', failedReasonContains: 'no such reason' });
    expect(none.body).toEqual({ matched: 0, retried: 0, skipped: 0 });

    const response = await post('/admin/jobs/failed/retry', { type: 'WITHDRAWAL.', failedReasonContains: 'REFUSE_666' });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ matched: 1, retried: 1, skipped: 0 });
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: withdrawals[1].object.id as string } }));
    // Not fixed yet: the direct debit fails again, and stays visible.
    expect((await post('/admin/jobs/failed/retry', { type: 'DIRECT_DEBIT.' })).body).toEqual({ matched: 1, retried: 1, skipped: 0 });
    await waitForFailedJobs(admin.eventsQueue, [directDebit.id]);

    await allowDirectDebits();
    expect((await post('/admin/jobs/failed/retry', {})).body).toEqual({ matched: 1, retried: 1, skipped: 0 });
    await eventually(async () => admin.harness.prisma.directDebit.findUnique({ where: { id: directDebit.object.id as string } }));
    expect(await admin.eventsQueue.getFailedCount()).toBe(0);
  });

  it('refuses an invalid filter', async () => {
    expect((await post('/admin/jobs/failed/retry', { type: 5 })).status).toBe(400);
    expect((await post('/admin/jobs/failed/retry', { status: 'failed' })).status).toBe(400);
    expect((await post('/admin/jobs/failed/retry', { limit: 0 })).status).toBe(400);
    const malformed = await request(admin.app).post('/admin/jobs/failed/retry').set(AUTHORIZED).type('json').send('{"type":');
    expect(malformed.status).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('quarantine', () => {
  const paymentId = 'f1f0c2d4-3333-4b2a-9c3d-000000000001';
  const valid = withdrawalEvent({ paymentId });
  const invalid = { ...valid, object: { ...valid.object, amount: 12.5 } };
  const notJson = '{"payload": [ this is not JSON';
  let eventRowId: bigint;
  let bodyRowId: bigint;

  beforeAll(async () => {
    expect((await admin.harness.deliver(batchOf(invalid))).body).toMatchObject({ quarantined: 1 });
    expect((await admin.harness.deliver(notJson)).body).toMatchObject({ quarantined: 1 });
    eventRowId = await quarantinedIdOf(admin.harness, { eventId: valid.id });
    bodyRowId = await quarantinedIdOf(admin.harness, { contentSha256: createHash('sha256').update(notJson).digest('hex') });
  });

  it('lists requests and events, newest first, with a preview of the content', async () => {
    const response = await get('/admin/quarantine?limit=10');

    expect(response.status).toBe(200);
    const items = response.body.items as Array<Record<string, unknown>>;
    expect(items.map((item) => item.id)).toEqual([bodyRowId.toString(), eventRowId.toString()]);
    expect(items[1]).toMatchObject({
      reason: expect.stringMatching(/invalid WITHDRAWAL.NEW event: object.amount/),
      eventId: valid.id,
      eventType: 'WITHDRAWAL.NEW',
      requestId: expect.any(String),
      receivedAt: expect.any(String),
      reprocessedAt: null,
      contentBytes: JSON.stringify(invalid).length,
    });
    expect(JSON.stringify(invalid).startsWith(items[1].content as string)).toBe(true);
    expect((items[1].content as string).length).toBeLessThanOrEqual(300);
    expect(items[0]).toMatchObject({ reason: expect.stringMatching(/body is not JSON/), eventId: null, content: notJson });
    expect((await get('/admin/quarantine?limit=1&offset=1')).body.items.map((item: { id: string }) => item.id)).toEqual([eventRowId.toString()]);
  });

  it('shows one with its whole content as text', async () => {
    const response = await get(`/admin/quarantine/${eventRowId}`);

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.content)).toEqual(invalid);
    expect((await get('/admin/quarantine/999999')).status).toBe(404);
    expect((await get('/admin/quarantine/abc')).status).toBe(400);
  });

  it('reprocesses a stored event: still invalid before the fix, accepted once, then a duplicate', async () => {
    const before = await post(`/admin/quarantine/${eventRowId}/reprocess`);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({ id: eventRowId.toString(), ranAs: 'event', accepted: 0, duplicate: 0, ignored: 0, quarantined: 1 });

    await replaceQuarantinedContent(admin.harness, eventRowId, JSON.stringify(valid));
    const after = await post(`/admin/quarantine/${eventRowId}/reprocess`);

    expect(after.body).toEqual({ id: eventRowId.toString(), ranAs: 'event', accepted: 1, duplicate: 0, ignored: 0, quarantined: 0 });
    const row = await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: paymentId } }));
    expect(row.amount.toFixed(2)).toBe('200.00');
    const stored = await admin.harness.prisma.quarantinedPayload.findUniqueOrThrow({ where: { id: eventRowId } });
    expect(stored.reprocessedAt).not.toBeNull();
    expect(JSON.parse(stored.reprocessOutcome as string)).toEqual({ accepted: 1, duplicate: 0, ignored: 0, quarantined: 0 });
    expect((await post(`/admin/quarantine/${eventRowId}/reprocess`)).body).toMatchObject({ accepted: 0, duplicate: 1 });
    expect((await post('/admin/quarantine/999999/reprocess')).status).toBe(404);
  });

  it('reprocesses a stored body as the whole batch it is', async () => {
    const directDebit = directDebitEvent({ paymentId: 'f1f0c2d4-3333-4b2a-9c3d-000000000002' });
    await replaceQuarantinedContent(admin.harness, bodyRowId, batchOf(directDebit, { ...directDebit, id: undefined, type: 'USER.CREATED' }));

    const response = await post(`/admin/quarantine/${bodyRowId}/reprocess`);

    expect(response.body).toEqual({ id: bodyRowId.toString(), ranAs: 'body', accepted: 1, duplicate: 0, ignored: 1, quarantined: 0 });
    await eventually(async () => admin.harness.prisma.directDebit.findUnique({ where: { id: directDebit.object.id as string } }));
  });
});

describe('re-projection', () => {
  const paymentId = 'f1f0c2d4-4444-4b2a-9c3d-000000000001';

  it("rebuilds a corrupted row from the payment's events and leaves the history alone", async () => {
    await confirmedWithdrawal(admin.harness, paymentId);
    const { projectedAt: _at, ...original } = await admin.harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    const history = await admin.harness.prisma.paymentStatusHistory.findMany({ where: { paymentId }, orderBy: { id: 'asc' } });
    await admin.harness.prisma.$executeRawUnsafe(`UPDATE withdrawals SET status = 'NEW', amount = 1, last_event_id = status_event_id WHERE id = $1::uuid`, paymentId);

    const response = await post(`/admin/payments/withdrawals/${paymentId.toUpperCase()}/reproject`);

    expect(response.status).toBe(200);
    // The read API's representation: the amount exactly as stored, and the untouched history.
    expect(response.body).toMatchObject({ id: paymentId, status: 'CONFIRMED', amount: '12.00', currency: 'EUR' });
    expect(response.body.history.map((entry: { event_id: string }) => entry.event_id)).toEqual(history.map(({ eventId }) => eventId));
    const { projectedAt: _again, ...rebuilt } = await admin.harness.prisma.withdrawal.findUniqueOrThrow({ where: { id: paymentId } });
    expect(rebuilt).toEqual(original);
    expect(await admin.harness.prisma.paymentStatusHistory.findMany({ where: { paymentId }, orderBy: { id: 'asc' } })).toEqual(history);
  });

  it('rebuilds a direct debit only from direct-debit events', async () => {
    const id = 'f1f0c2d4-4444-4b2a-9c3d-000000000002';
    const events = [directDebitEvent({ paymentId: id, status: 'NEW' }), directDebitEvent({ paymentId: id, status: 'CANCELLED', createdAt: '2021-07-21T15:00:00Z' })];
    await admin.harness.deliver(batchOf(...events));
    await eventually(async () => (await admin.harness.prisma.directDebit.findUnique({ where: { id } }))?.status === 'CANCELLED');
    await admin.harness.prisma.directDebit.delete({ where: { id } });

    const response = await post(`/admin/payments/direct-debits/${id}/reproject`);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, status: 'CANCELLED', history: [{ event_id: events[0].id }, { event_id: events[1].id }] });
    expect((await post(`/admin/payments/withdrawals/${id}/reproject`)).status).toBe(404);
  });

  it('answers 404 for a payment without events and 400 for a bad kind or id', async () => {
    expect((await post('/admin/payments/withdrawals/00000000-0000-4000-8000-000000000000/reproject')).status).toBe(404);
    expect((await post(`/admin/payments/refunds/${paymentId}/reproject`)).status).toBe(400);
    expect((await post('/admin/payments/withdrawals/not-a-uuid/reproject')).status).toBe(400);
  });
});

describe('setting a failed job aside into quarantine', () => {
  const event = withdrawalEvent({ paymentId: 'f1f0c2d4-5555-4b2a-9c3d-000000000001', object: { amount: '666.00' } });

  it('moves the event to quarantine and empties the failed set; reprocessing after the fix projects it', async () => {
    const allow = await failedWithdrawalJob(admin, event);

    const response = await post(`/admin/jobs/${event.id}/quarantine`);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: event.id, quarantineId: expect.stringMatching(/^\d+$/) });
    expect(await admin.eventsQueue.getFailedCount()).toBe(0);
    expect(await admin.eventsQueue.getJob(event.id)).toBeUndefined();
    const quarantined = await get(`/admin/quarantine/${response.body.quarantineId}`);
    expect(quarantined.body).toMatchObject({ eventId: event.id, eventType: 'WITHDRAWAL.NEW', reprocessedAt: null });
    expect(quarantined.body.reason).toMatch(/^set aside by an operator after the job failed: .*refuse_666/);
    expect(JSON.parse(quarantined.body.content)).toEqual(event);

    await allow();
    const reprocessed = await post(`/admin/quarantine/${response.body.quarantineId}/reprocess`);

    expect(reprocessed.body).toMatchObject({ ranAs: 'event', accepted: 1, duplicate: 0 });
    const row = await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: event.object.id as string } }));
    expect(row.amount.toFixed(2)).toBe('666.00');
  });

  it('answers 409 for a job that is not failed or not the job of one event, and 404 for an unknown one', async () => {
    const projected = withdrawalEvent();
    const done = await admin.eventsQueue.add(projected.type, { events: [{ id: projected.id, type: projected.type }] }, { jobId: projected.id });
    await eventually(async () => (await done.getState()) === 'completed');
    const batch = await admin.eventsQueue.add('batch', { events: [] }, { jobId: 'batch-of-nothing' });

    expect((await post(`/admin/jobs/${projected.id}/quarantine`)).body).toMatchObject({ status: 409, title: 'Job not failed' });
    expect((await post(`/admin/jobs/${batch.id}/quarantine`)).body).toMatchObject({ status: 409, title: 'Not an event job' });
    expect((await post('/admin/jobs/00000000-0000-4000-8000-000000000000/quarantine')).status).toBe(404);
  });
});

describe('retrying failed jobs in bull-board', () => {
  const events = [
    withdrawalEvent({ paymentId: 'f1f0c2d4-6666-4b2a-9c3d-000000000001', object: { amount: '666.00' } }),
    withdrawalEvent({ paymentId: 'f1f0c2d4-6666-4b2a-9c3d-000000000002', object: { amount: '666.00' } }),
  ];
  const put = (path: string) => request(admin.app).put(`/admin/queues/api/queues/upvest-events/${path}`).set(AUTHORIZED);

  it('retries one job and then every failed job; both are projected after the fix', async () => {
    const allow = await refuseAmount666(admin.harness, 'withdrawals');
    await admin.harness.deliver(batchOf(...events));
    await waitForFailedJobs(admin.eventsQueue, events.map((event) => event.id));
    await allow();

    expect((await put(`${events[0].id}/retry`)).status).toBe(204);
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: events[0].object.id as string } }));
    const all = await put('retry/failed');

    expect(all.status).toBe(200);
    expect(all.body).toEqual({ retried: 1, skipped: 0 });
    await eventually(async () => admin.harness.prisma.withdrawal.findUnique({ where: { id: events[1].object.id as string } }));
    expect(await admin.eventsQueue.getFailedCount()).toBe(0);
  });
});
