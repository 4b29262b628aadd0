import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { Pool } from 'pg';
import { stringify } from 'yaml';
import { PushSubscriptions } from '../../src/push/PushSubscriptions';
import { EVENTS_QUEUE_NAME } from '../../src/queue/redisKeys';
import { batchOf, uuid, withdrawalEvent } from '../../testkit/paymentEvents';
import { prometheusTools, renderPrometheusRule, rulesFile } from '../support/prometheus';
import { eventually, startTestService, TestService } from '../support/testService';
import { freePort } from '../../testkit/freePort';

const WAIT_MS = 90_000;

/** The value of the sample of `name` with these labels in a scrape, or undefined. */
async function gauge(harness: TestService, name: string, labels = ''): Promise<number | undefined> {
  const text = await (await fetch(harness.metricsUrl)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels === '' ? '' : `{${labels}}`} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A Prometheus of its own that scrapes the service every second and evaluates the chart's rules. */
class TestPrometheus {
  private constructor(
    private readonly process: ChildProcess,
    readonly url: string,
    private readonly log: string,
  ) {}

  static async start(binary: string, directory: string, metricsUrl: URL, rules: string): Promise<TestPrometheus> {
    writeFileSync(path.join(directory, 'rules.yaml'), rules);
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: ['rules.yaml'],
      scrape_configs: [
        {
          job_name: 'upvest',
          metrics_path: metricsUrl.pathname,
          // The label the chart's metricSelector selects by, as the ServiceMonitor's targets carry it.
          static_configs: [{ targets: [metricsUrl.host], labels: { namespace: 'payments' } }],
        },
      ],
    };
    writeFileSync(path.join(directory, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const log = path.join(directory, 'prometheus.log');
    const output = openSync(log, 'w');
    const child = spawn(
      binary,
      [`--config.file=${path.join(directory, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', output, output] },
    );
    const prometheus = new TestPrometheus(child, `http://127.0.0.1:${port}`, log);
    await eventually(() => fetch(`${prometheus.url}/-/ready`).then((response) => response.ok, () => false), WAIT_MS, `Prometheus ready (log: ${log})`);
    return prometheus;
  }

  /** Waits until the alert is pending or firing; answers its state. */
  async alert(name: string): Promise<string> {
    return eventually(
      async () => {
        const response = await fetch(`${this.url}/api/v1/alerts`);
        const { data } = (await response.json()) as { data: { alerts: Array<{ labels: { alertname: string }; state: string }> } };
        return data.alerts.find((alert) => alert.labels.alertname === name)?.state;
      },
      WAIT_MS,
      `${name} pending or firing (log: ${this.log})`,
    );
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.kill('SIGTERM');
    await exited;
  }
}

describe("the pipeline's gauges and the chart's alerts, against the live service", () => {
  const tools = prometheusTools();
  const withPrometheus = tools === undefined ? test.skip : test;
  let harness: TestService;
  let directory: string;
  let prometheus: TestPrometheus | undefined;
  let connection: IORedis;
  let events: Queue;
  let pool: Pool | undefined;

  beforeAll(async () => {
    harness = await startTestService();
    connection = new IORedis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    events = new Queue(EVENTS_QUEUE_NAME, { connection, prefix: harness.redisPrefix });
    directory = mkdtempSync(path.join(os.tmpdir(), 'upvest-alerts-'));
    if (tools !== undefined) {
      // Short durations through the values, as an operator would shorten them.
      const rule = renderPrometheusRule([
        '--set',
        'prometheusRule.alerts.UpvestWebhookEventsQuarantined.for=0s',
        '--set',
        'prometheusRule.alerts.UpvestQueuePaused.for=1s',
        '--set',
        'prometheusRule.alerts.UpvestQueueStalled.for=1s',
        '--set',
        'prometheusRule.alerts.UpvestQueueStalled.thresholdSeconds=1',
        '--set',
        'prometheusRule.alerts.UpvestPushDeliveryLagging.for=1s',
        '--set',
        'prometheusRule.alerts.UpvestPushDeliveryLagging.thresholdSeconds=1',
        '--set',
        'prometheusRule.alerts.UpvestPushSubscriptionFailing.for=1s',
      ]);
      prometheus = await TestPrometheus.start(tools.prometheus, directory, new URL(harness.metricsUrl), rulesFile(rule));
    }
  }, 120_000);

  afterAll(async () => {
    await events?.resume();
    await prometheus?.stop();
    await events?.close();
    await pool?.end();
    connection?.disconnect();
    await harness?.stop();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  }, 60_000);

  test('the first quarantined item of a new type raises upvest_quarantine_pending from 0 to 1', async () => {
    expect(await gauge(harness, 'upvest_quarantine_pending')).toBe(0);

    const response = await harness.deliver(batchOf({ ...withdrawalEvent(), type: 'WITHDRAWAL.REFUNDED' }));

    expect(response.body).toMatchObject({ quarantined: 1 });
    expect(await gauge(harness, 'upvest_quarantine_pending')).toBe(1);
  });

  withPrometheus('Prometheus evaluates the quarantine alert as pending or firing', async () => {
    expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestWebhookEventsQuarantined'));
  }, 120_000);

  test('a paused events queue shows as paused, with its worker connected and its waiting job and event ageing', async () => {
    expect(await gauge(harness, 'upvest_queue_paused', `queue="${EVENTS_QUEUE_NAME}"`)).toBe(0);
    await events.pause();

    expect(await harness.deliver(batchOf(withdrawalEvent()))).toMatchObject({ status: 200, body: { accepted: 1 } });

    expect(await gauge(harness, 'upvest_queue_paused', `queue="${EVENTS_QUEUE_NAME}"`)).toBe(1);
    expect(await gauge(harness, 'upvest_queue_workers', `queue="${EVENTS_QUEUE_NAME}"`)).toBeGreaterThanOrEqual(1);
    await eventually(async () => ((await gauge(harness, 'upvest_queue_oldest_waiting_seconds', `queue="${EVENTS_QUEUE_NAME}"`)) ?? 0) > 1, WAIT_MS, 'the waiting job ageing');
    expect(await gauge(harness, 'upvest_inbox_oldest_unprojected_seconds')).toBeGreaterThan(1);
  }, 120_000);

  withPrometheus('Prometheus evaluates the paused and the stall alerts as pending or firing', async () => {
    expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestQueuePaused'));
    expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestQueueStalled'));
  }, 120_000);

  test('once resumed, the event is projected and the stall gauges fall back to 0', async () => {
    await events.resume();

    await eventually(async () => (await harness.projectedEvents()) === 1, WAIT_MS, 'the event projected');
    expect(await gauge(harness, 'upvest_queue_paused', `queue="${EVENTS_QUEUE_NAME}"`)).toBe(0);
    expect(await gauge(harness, 'upvest_queue_oldest_waiting_seconds', `queue="${EVENTS_QUEUE_NAME}"`)).toBe(0);
    expect(await gauge(harness, 'upvest_inbox_oldest_unprojected_seconds')).toBe(0);
  }, 120_000);

  describe('push', () => {
    let subscriptionId: string;
    const labels = () => `subscription="${subscriptionId}"`;

    test('a subscription to a loopback address (not in PUSH_ALLOWED_TARGETS) is refused, and its change ages undelivered', async () => {
      pool = new Pool({ connectionString: harness.database.url, max: 2 });
      subscriptionId = (await new PushSubscriptions(pool).add({ url: 'http://127.0.0.1:9/hook' })).subscription.id;

      const response = await harness.deliver(batchOf(withdrawalEvent({ paymentId: uuid(0x9001), status: 'NEW' })));

      expect(response).toMatchObject({ status: 200, body: { accepted: 1 } });
      // The first attempt and a retry: the counter is born at 1 and must rise for increase() to see it.
      await eventually(async () => ((await gauge(harness, 'upvest_push_failures_total', `${labels()},reason="refused_target"`)) ?? 0) >= 2, WAIT_MS, 'a refused retry');
      expect(await gauge(harness, 'upvest_push_oldest_undelivered_seconds', labels())).toBeGreaterThan(1);
      expect(await gauge(harness, 'upvest_push_subscription_failing', labels())).toBe(0);
    }, 120_000);

    withPrometheus('Prometheus evaluates the refused-target and the lag alerts as pending or firing', async () => {
      expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestPushRefusedTarget'));
      expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestPushDeliveryLagging'));
    }, 120_000);

    test('a change failing for PUSH_FAILING_AFTER_HOURS makes the subscription failing', async () => {
      // As if it had been failing for a day: its next attempt is due now.
      await pool?.query("UPDATE push_deliveries SET first_attempt_at = now() - interval '25 hours', next_attempt_at = now() WHERE subscription_id = $1", [subscriptionId]);

      await eventually(async () => (await gauge(harness, 'upvest_push_subscription_failing', labels())) === 1, WAIT_MS, 'the failing state');
    }, 120_000);

    withPrometheus('Prometheus evaluates the failing alert as pending or firing', async () => {
      expect(['pending', 'firing']).toContain(await prometheus?.alert('UpvestPushSubscriptionFailing'));
    }, 120_000);

    test('a disabled subscription is not reported, so its failing and lag alerts clear', async () => {
      await new PushSubscriptions(pool as Pool).disable(subscriptionId);

      expect(await gauge(harness, 'upvest_push_subscription_failing', labels())).toBeUndefined();
      expect(await gauge(harness, 'upvest_push_oldest_undelivered_seconds', labels())).toBeUndefined();
    });
  });
});
