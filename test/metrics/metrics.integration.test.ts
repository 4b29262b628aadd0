import crypto from 'node:crypto';
import request from 'supertest';
import { generateKeyPair } from '../../src/signature';
import { directDebitResource } from '../support/fakeUpvest';
import { startFakeUpvestTenant } from '../support/fakeUpvestTenant';
import { refuseAmount666 } from '../support/refusedAmount';
import { batchOf, directDebitEvent, withdrawalEvent } from '../../testkit/paymentEvents';
import { eventually, signedHeaders, startTestService, TestService } from '../support/testService';
import { freePort } from '../../testkit/freePort';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in a Prometheus text exposition. */
function samplesOf(text: string, name: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the sample with (at least) these labels; 0 when there is none. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  const sample = samplesOf(text, name).find(({ labels: actual }) => wanted.every(([key, value]) => actual[key] === value));
  return sample?.value ?? 0;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
}

describe('GET /metrics on the main port (METRICS_PORT=0)', () => {
  let harness: TestService;

  beforeAll(async () => {
    harness = await startTestService({ WEBHOOK_BODY_LIMIT_BYTES: String(16 * 1024) });
  });

  afterAll(async () => {
    await harness.stop();
  });

  const metrics = () => scrape(harness.metricsUrl);

  it('counts the events of acknowledged deliveries by type and outcome, with the answer unchanged', async () => {
    const before = await metrics();
    const events = [
      withdrawalEvent({ paymentId: crypto.randomUUID() }),
      withdrawalEvent({ paymentId: crypto.randomUUID() }),
      directDebitEvent({ paymentId: crypto.randomUUID(), status: 'PROCESSING' }),
      { id: crypto.randomUUID(), created_at: '2021-07-21T14:10:00Z', type: 'USER.CREATED', object: {}, webhook_id: 'w' },
      { id: crypto.randomUUID(), created_at: '2021-07-21T14:10:00Z', type: 'USER.UPDATED', object: {}, webhook_id: 'w' },
      { ...withdrawalEvent(), type: 'WITHDRAWAL.REFUNDED' },
      { id: crypto.randomUUID(), object: {} },
    ];
    const body = batchOf(...events);

    const first = await harness.deliver(body);
    const again = await harness.deliver(body);

    expect(first.body).toEqual({ accepted: 3, duplicate: 0, ignored: 2, quarantined: 2 });
    expect(again.body).toEqual({ accepted: 0, duplicate: 3, ignored: 2, quarantined: 2 });
    const after = await metrics();
    const delta = (type: string, outcome: string) =>
      valueOf(after, 'upvest_webhook_events_total', { type, outcome }) - valueOf(before, 'upvest_webhook_events_total', { type, outcome });
    expect(delta('WITHDRAWAL.NEW', 'accepted')).toBe(2);
    expect(delta('DIRECT_DEBIT.PROCESSING', 'accepted')).toBe(1);
    expect(delta('WITHDRAWAL.NEW', 'duplicate')).toBe(2);
    expect(delta('DIRECT_DEBIT.PROCESSING', 'duplicate')).toBe(1);
    expect(delta('USER', 'ignored')).toBe(4);
    expect(delta('WITHDRAWAL', 'quarantined')).toBe(2);
    expect(delta('unknown', 'quarantined')).toBe(2);
    expect(samplesOf(after, 'upvest_webhook_events_total').some(({ labels }) => labels.type.startsWith('USER.'))).toBe(false);
  });

  it('counts refused signatures by reason', async () => {
    const before = await metrics();
    const body = batchOf(withdrawalEvent());

    const tampered = await request(harness.baseUrl)
      .post('/webhooks/upvest')
      .set(signedHeaders(body))
      .send(body.replace('200.00', '900.00'));
    const unknownKey = await harness.deliver(body, { keyPair: generateKeyPair('p521') });

    expect([tampered.status, unknownKey.status]).toEqual([401, 401]);
    const after = await metrics();
    const delta = (reason: string) =>
      valueOf(after, 'upvest_webhook_signature_failures_total', { reason }) - valueOf(before, 'upvest_webhook_signature_failures_total', { reason });
    expect(delta('digest_mismatch')).toBe(1);
    expect(delta('unknown_key')).toBe(1);
    expect(delta('bad_signature')).toBe(0);
  });

  it('times requests by method, route pattern and status, and labels unknown paths as unmatched, never by their URL', async () => {
    const before = await metrics();
    const count = (text: string, labels: Record<string, string>) => valueOf(text, 'upvest_http_request_duration_seconds_count', labels);

    expect((await harness.deliver(batchOf(withdrawalEvent({ paymentId: crypto.randomUUID() })))).status).toBe(200);
    expect((await request(harness.baseUrl).get('/no/such/path-4711')).status).toBe(404);
    expect((await request(harness.baseUrl).get('/webhooks/upvest')).status).toBe(405);
    expect((await request(harness.baseUrl).get('/healthz')).status).toBe(200);
    const tooLarge = 'x'.repeat(17 * 1024);
    expect((await request(harness.baseUrl).post('/webhooks/upvest').set(signedHeaders(tooLarge)).send(tooLarge)).status).toBe(413);

    const after = await metrics();
    expect(count(after, { method: 'POST', route: '/webhooks/upvest', status: '200' }) - count(before, { method: 'POST', route: '/webhooks/upvest', status: '200' })).toBe(1);
    expect(count(after, { method: 'POST', route: '/webhooks/upvest', status: '413' })).toBe(1);
    expect(count(after, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(count(after, { method: 'GET', route: '/webhooks/upvest', status: '405' })).toBe(1);
    expect(count(after, { method: 'GET', route: '/healthz', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(count(after, { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
    // The raw path, not a number that happens to contain its digits (a duration sum may).
    expect(after).not.toContain('path-4711');
    expect(valueOf(after, 'upvest_http_request_duration_seconds_bucket', { route: '/webhooks/upvest', status: '200', le: '+Inf' })).toBeGreaterThanOrEqual(1);
  });

  it('reports the jobs of the events queue by state at scrape time', async () => {
    const text = await metrics();

    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(samplesOf(text, 'upvest_queue_jobs').some(({ labels }) => labels.queue === 'upvest-events' && labels.state === state)).toBe(true);
    }
  });

  it('observes the projection lag and the job attempts once the events are projected', async () => {
    const before = await metrics();
    const paymentId = crypto.randomUUID();
    const createdAt = new Date(Date.now() - 3000).toISOString();
    const events = [withdrawalEvent({ paymentId, status: 'NEW', createdAt }), withdrawalEvent({ paymentId, status: 'PROCESSING', createdAt })];

    expect((await harness.deliver(batchOf(...events))).status).toBe(200);
    await eventually(async () => (await harness.prisma.paymentStatusHistory.count({ where: { paymentId } })) === 2, 15000, 'projected events');

    // Events of the earlier tests were created in 2021: they land above 60 s, these two at about 3 s.
    const recent = (text: string) =>
      valueOf(text, 'upvest_projection_lag_seconds_bucket', { le: '60' }) - valueOf(text, 'upvest_projection_lag_seconds_bucket', { le: '1' });
    const after = await eventually(async () => {
      const text = await metrics();
      return recent(text) - recent(before) >= 2 ? text : undefined;
    });
    expect(recent(after) - recent(before)).toBe(2);
    const increase = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(increase('upvest_projection_lag_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(increase('upvest_projection_lag_seconds_sum')).toBeGreaterThan(2 * 2.5);
    // One job for the delivery's two events.
    await eventually(async () => valueOf(await metrics(), 'upvest_projection_job_attempts_total', { outcome: 'completed' }) >= valueOf(before, 'upvest_projection_job_attempts_total', { outcome: 'completed' }) + 1);
  });

  it('counts a job that fails for good', async () => {
    const before = await metrics();
    const allow = await refuseAmount666(harness, 'withdrawals');
    try {
      expect((await harness.deliver(batchOf(withdrawalEvent({ object: { amount: '666.00' } })))).status).toBe(200);

      const after = await eventually(async () => {
        const text = await metrics();
        return valueOf(text, 'upvest_projection_job_attempts_total', { outcome: 'failed' }) > valueOf(before, 'upvest_projection_job_attempts_total', { outcome: 'failed' })
          ? text
          : undefined;
      });
      expect(valueOf(after, 'upvest_queue_jobs', { queue: 'upvest-events', state: 'failed' })).toBeGreaterThanOrEqual(1);
    } finally {
      await allow();
    }
  });

  it('starts every dependency error series at zero and serves the default process metrics on the same registry', async () => {
    const text = await metrics();

    expect(samplesOf(text, 'upvest_dependency_errors_total').map(({ labels }) => labels.dependency).sort()).toEqual(['postgres', 'redis']);
    expect(valueOf(text, 'upvest_dependency_errors_total', { dependency: 'postgres' })).toBe(0);
    expect(samplesOf(text, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samplesOf(text, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(samplesOf(text, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(text).toContain('# TYPE upvest_reconciliation_corrected_total counter');
    expect(text).toContain('# TYPE upvest_reconciliation_oldest_non_final_seconds gauge');
  });
});

describe('GET /metrics on a port of its own', () => {
  it('answers there and not on the main port, reports the reconciliation, and closes with the service', async () => {
    const tenant = await startFakeUpvestTenant();
    const metricsPort = await freePort();
    const harness = await startTestService({
      ...tenant.environment,
      METRICS_PORT: String(metricsPort),
      RECONCILIATION_INTERVAL_SECONDS: '1',
      RECONCILIATION_STALE_AFTER_SECONDS: '0',
    });
    let stopped = false;
    try {
      expect(harness.service.metricsPort).toBe(metricsPort);
      expect(harness.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
      expect((await request(harness.baseUrl).get('/metrics')).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/webhooks/upvest`, { method: 'POST', body: '{}' })).status).toBe(404);

      // A payment whose final webhook never arrives: reconciliation corrects it.
      const paymentId = crypto.randomUUID();
      expect((await harness.deliver(batchOf(directDebitEvent({ paymentId, status: 'PROCESSING', createdAt: '2026-11-01T10:00:00Z' })))).status).toBe(200);
      await eventually(async () => (await harness.prisma.directDebit.findUnique({ where: { id: paymentId } }))?.status === 'PROCESSING', 15000, 'PROCESSING row');
      tenant.fake.directDebits.set(paymentId, directDebitResource({ id: paymentId, status: 'CONFIRMED' }));

      const text = await eventually(async () => {
        const scraped = await scrape(harness.metricsUrl);
        return valueOf(scraped, 'upvest_reconciliation_corrected_total') >= 1 ? scraped : undefined;
      }, 20000, 'a correction in the metrics');
      expect(valueOf(text, 'upvest_reconciliation_oldest_non_final_seconds')).toBe(0);
      for (const queue of ['upvest-events', 'upvest-reconciliation']) {
        expect(samplesOf(text, 'upvest_queue_jobs').filter(({ labels }) => labels.queue === queue)).toHaveLength(4);
      }
      expect(samplesOf(text, 'process_resident_memory_bytes').length + samplesOf(text, 'process_cpu_user_seconds_total').length).toBeGreaterThan(0);

      await harness.stop();
      stopped = true;

      await expect(fetch(harness.metricsUrl)).rejects.toThrow();
    } finally {
      if (!stopped) await harness.stop();
      await tenant.fake.close();
    }
  });
});
