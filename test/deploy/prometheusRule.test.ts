import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CHART_DIR, runHelm } from '../support/helm';
import { alertingRules, prometheusTools, renderPrometheusRule, rulesFile } from '../support/prometheus';

const PRODUCTION_VALUES = path.join(CHART_DIR, 'ci/production-values.yaml');
const API_JOB = 'release-upvest-webhook-receiver';
const WORKER_JOB = 'release-upvest-webhook-receiver-worker';

describe('PrometheusRule', () => {
  const alerts = alertingRules(renderPrometheusRule(['-f', PRODUCTION_VALUES]));
  const byName = (name: string) => {
    const found = alerts.find((alert) => alert.alert === name);
    if (found === undefined) throw new Error(`no alert ${name}`);
    return found;
  };

  test('alerts when the pipeline stalls: oldest waiting job, paused queue, no worker, unprojected inbox events', () => {
    expect(byName('UpvestQueueStalled').expr).toBe('max by (namespace) (upvest_queue_oldest_waiting_seconds{queue="upvest-events",namespace="payments"}) > 300');
    expect(byName('UpvestQueuePaused').expr).toBe('max by (namespace, queue) (upvest_queue_paused{namespace="payments"}) > 0');
    expect(byName('UpvestNoActiveWorker').expr).toBe('max by (namespace) (upvest_queue_workers{queue="upvest-events",namespace="payments"}) < 1');
    expect(byName('UpvestInboxEventsNotProjected').expr).toBe('max by (namespace) (upvest_inbox_oldest_unprojected_seconds{namespace="payments"}) > 600');
  });

  test("alerts on targets down or absent by the job label the ServiceMonitor gives them (the Services' names)", () => {
    const services = runHelm(['template', 'release', CHART_DIR, '-n', 'payments', '-f', PRODUCTION_VALUES, '-s', 'templates/services.yaml']);
    for (const job of [API_JOB, WORKER_JOB]) expect(services.stdout).toContain(`  name: ${job}\n`);
    expect(byName('UpvestTargetDown').expr).toBe(`up{job=~"${API_JOB}|${WORKER_JOB}",namespace="payments"} == 0`);
    expect(byName('UpvestTargetAbsent').expr).toBe(`absent(up{job="${API_JOB}",namespace="payments"}) or absent(up{job="${WORKER_JOB}",namespace="payments"})`);

    const withoutMonitor = alertingRules(renderPrometheusRule(['--set', 'serviceMonitor.enabled=false'])).map((alert) => alert.alert);
    expect(withoutMonitor).not.toContain('UpvestTargetDown');
    expect(withoutMonitor).not.toContain('UpvestTargetAbsent');
  });

  test('alerts per push subscription: failing, lagging, and refused before connecting (a misconfigured subscription)', () => {
    expect(byName('UpvestPushSubscriptionFailing').expr).toBe('max by (namespace, subscription) (upvest_push_subscription_failing{namespace="payments"}) > 0');
    expect(byName('UpvestPushDeliveryLagging').expr).toBe('max by (namespace, subscription) (upvest_push_oldest_undelivered_seconds{namespace="payments"}) > 900');
    // Longer than the hourly retries of a refused change, so that it holds while the subscription stays refused.
    expect(byName('UpvestPushRefusedTarget').expr).toBe(
      'sum by (namespace, subscription, reason) (increase(upvest_push_failures_total{reason=~"refused_target|insecure_url",namespace="payments"}[90m])) > 0',
    );
    expect(byName('UpvestPushSubscriptionFailing')).toMatchObject({ for: '5m', labels: { severity: 'warning' } });
    expect(byName('UpvestPushDeliveryLagging')).toMatchObject({ for: '10m', labels: { severity: 'warning' } });
    expect(byName('UpvestPushRefusedTarget')).toMatchObject({ for: '0s', labels: { severity: 'warning' } });
    // Named by the subscription's id (the metrics' label), never by its URL.
    for (const name of ['UpvestPushSubscriptionFailing', 'UpvestPushDeliveryLagging', 'UpvestPushRefusedTarget']) {
      expect(byName(name).annotations.summary).toContain('{{ $labels.subscription }}');
    }
  });

  test('the quarantine alert reads the pending gauge, not the increase of a counter that is born at 1', () => {
    expect(byName('UpvestWebhookEventsQuarantined').expr).toBe('max by (namespace) (upvest_quarantine_pending{namespace="payments"}) > 0');
  });

  test('the lag alert says what it measures: from the event time, not from receipt', () => {
    expect(byName('UpvestProjectionLagHigh').annotations.description).toContain("from the events' created_at");
    expect(byName('UpvestProjectionLagHigh').annotations.description).not.toContain('receipt');
  });

  test('every for and threshold comes from the values', () => {
    const short = alertingRules(
      renderPrometheusRule([
        '-f',
        PRODUCTION_VALUES,
        '--set',
        'prometheusRule.alerts.UpvestQueueStalled.for=15s',
        '--set',
        'prometheusRule.alerts.UpvestQueueStalled.thresholdSeconds=2',
        '--set',
        'prometheusRule.alerts.UpvestProjectionLagHigh.thresholdSeconds=120',
        // --set takes 0.5 for a string.
        '--set-json',
        'prometheusRule.alerts.UpvestDependencyErrors.thresholdPerSecond=0.5',
        '--set',
        'prometheusRule.alerts.UpvestWebhookSignatureFailuresSpike.thresholdPerSecond=2',
        '--set',
        'prometheusRule.alerts.UpvestInboxEventsNotProjected.thresholdSeconds=30',
        '--set',
        'prometheusRule.alerts.UpvestPushDeliveryLagging.thresholdSeconds=3600',
        '--set',
        'prometheusRule.alerts.UpvestPushSubscriptionFailing.for=1h',
      ]),
    );
    const rule = (name: string) => short.find((alert) => alert.alert === name);
    expect(rule('UpvestQueueStalled')).toMatchObject({ for: '15s', expr: expect.stringMatching(/ > 2$/) });
    expect(rule('UpvestProjectionLagHigh')?.expr).toMatch(/ > 120$/);
    expect(rule('UpvestProjectionLagHigh')?.annotations.summary).toBe('Projection lags more than 120 s (p99)');
    expect(rule('UpvestDependencyErrors')?.expr).toMatch(/ > 0\.5$/);
    expect(rule('UpvestWebhookSignatureFailuresSpike')?.expr).toMatch(/ > 2$/);
    expect(rule('UpvestInboxEventsNotProjected')?.expr).toMatch(/ > 30$/);
    expect(rule('UpvestPushDeliveryLagging')?.expr).toMatch(/ > 3600$/);
    expect(rule('UpvestPushDeliveryLagging')?.annotations.summary).toBe('Push subscription {{ $labels.subscription }} has changes undelivered after 3600 s');
    expect(rule('UpvestPushSubscriptionFailing')?.for).toBe('1h');
    for (const alert of alerts) expect([alert.alert, alert.for]).toEqual([alert.alert, expect.stringMatching(/^([0-9]+(ms|s|m|h))+$/)]);
  });

  test.each([
    [['--set', 'prometheusRule.alerts.UpvestQueueStalled.for=5 minutes'], /UpvestQueueStalled\/for/],
    [['--set', 'prometheusRule.alerts.UpvestQueueStalled.thresholdSeconds=0'], /UpvestQueueStalled\/thresholdSeconds/],
    [['--set', 'prometheusRule.alerts.UpvestQueueStaled.for=1m'], /additional properties 'UpvestQueueStaled' not allowed/],
    [['--set', 'prometheusRule.alerts.UpvestPushDeliveryLagging.thresholdSeconds=0'], /UpvestPushDeliveryLagging\/thresholdSeconds/],
    [['--set', 'prometheusRule.alerts.UpvestPushRefusedTarget.for=now'], /UpvestPushRefusedTarget\/for/],
  ])('refuses invalid alert settings: %j', (args, message) => {
    const result = runHelm(['template', 'release', CHART_DIR, ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  const tools = prometheusTools();
  (tools === undefined ? describe.skip : describe)('with promtool', () => {
    let directory: string;
    beforeAll(() => {
      directory = mkdtempSync(path.join(os.tmpdir(), 'upvest-promtool-'));
    });
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    const promtool = (args: string[]) => {
      const result = spawnSync(tools?.promtool ?? '', args, { cwd: directory, encoding: 'utf8' });
      return { status: result.status, output: result.stdout + result.stderr };
    };

    test.each([
      ['default values', ['--set', 'serviceMonitor.enabled=true']],
      ['production values', ['-f', PRODUCTION_VALUES]],
    ])('promtool check rules accepts the rendered groups (%s)', (_name, args) => {
      const file = path.join(directory, `check-${args.length}.yaml`);
      writeFileSync(file, rulesFile(renderPrometheusRule(args)));
      const result = promtool(['check', 'rules', file]);
      expect(result).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${alerts.length} rules found`) });
    });

    test('the alerts fire on what they are for, and not on an isolated error (promtool test rules)', () => {
      // Annotations left out: promtool compares them too, and they are checked above.
      const rule = renderPrometheusRule(['--set', 'serviceMonitor.enabled=true']);
      for (const group of rule.spec.groups) for (const alert of group.rules) delete alert.annotations;
      writeFileSync(path.join(directory, 'rules.yaml'), rulesFile(rule));
      const ns = 'namespace="payments"';
      const expect1 = (alertname: string, evalTime: string, labels: Record<string, string>[]) => ({
        eval_time: evalTime,
        alertname,
        exp_alerts: labels.map((exp_labels) => ({ exp_labels: { namespace: 'payments', ...exp_labels } })),
      });
      const tests = {
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // The first quarantined item of the pod's life: the gauge goes from 0 to 1.
              { series: `upvest_quarantine_pending{${ns},pod="api-1"}`, values: '0 0 1 1 1 0 0' },
              // One isolated error, then a sustained 0.1 errors per second.
              { series: `upvest_dependency_errors_total{${ns},dependency="postgres"}`, values: '0 0 0 1x40' },
              { series: `upvest_dependency_errors_total{${ns},dependency="redis"}`, values: '0+6x40' },
              { series: `upvest_queue_oldest_waiting_seconds{${ns},queue="upvest-events"}`, values: '0 0 0+60x20' },
              { series: `upvest_queue_paused{${ns},queue="upvest-events"}`, values: '0 0 1x20' },
              { series: `upvest_queue_workers{${ns},queue="upvest-events"}`, values: '1 1 0x20' },
              { series: `upvest_inbox_oldest_unprojected_seconds{${ns}}`, values: '0+60x30' },
              { series: `up{${ns},job="${API_JOB}",instance="10.0.0.1:9464"}`, values: '1 1 0x20' },
              // Push, per subscription. Every worker reports the same gauges (read from Postgres): one alert each, by max.
              ...['worker-1', 'worker-2'].flatMap((pod) => [
                { series: `upvest_push_subscription_failing{${ns},pod="${pod}",subscription="s-failing"}`, values: '0 0 1x20' },
                { series: `upvest_push_subscription_failing{${ns},pod="${pod}",subscription="s-healthy"}`, values: '0x30' },
                // Undelivered for longer and longer: above 900 s from the 16th minute.
                { series: `upvest_push_oldest_undelivered_seconds{${ns},pod="${pod}",subscription="s-lagging"}`, values: '0+60x40' },
                // A steady backlog of half a minute: a busy subscriber, not a lagging one.
                { series: `upvest_push_oldest_undelivered_seconds{${ns},pod="${pod}",subscription="s-healthy"}`, values: '30x40' },
              ]),
              // Refused before connecting: the counter is born with the first attempt, the retries raise it, then stop.
              { series: `upvest_push_failures_total{${ns},pod="worker-1",subscription="s-internal",reason="refused_target"}`, values: '_ _ 1 2 3 3 4x110' },
              { series: `upvest_push_failures_total{${ns},pod="worker-2",subscription="s-http",reason="insecure_url"}`, values: '1 2 2 2 3x110' },
              // A subscriber that answers 500 or times out, sustained: not a misconfigured subscription.
              { series: `upvest_push_failures_total{${ns},pod="worker-1",subscription="s-down",reason="status_5xx"}`, values: '0+5x110' },
              { series: `upvest_push_failures_total{${ns},pod="worker-1",subscription="s-down",reason="timeout"}`, values: '0+2x110' },
            ],
            alert_rule_test: [
              expect1('UpvestWebhookEventsQuarantined', '1m', []),
              expect1('UpvestWebhookEventsQuarantined', '3m', [{ severity: 'warning' }]),
              expect1('UpvestWebhookEventsQuarantined', '6m', []),
              ...['5m', '10m'].map((time) => expect1('UpvestDependencyErrors', time, [])),
              ...['15m', '20m'].map((time) => expect1('UpvestDependencyErrors', time, [{ severity: 'warning', dependency: 'redis' }])),
              expect1('UpvestQueueStalled', '10m', []),
              expect1('UpvestQueueStalled', '14m', [{ severity: 'critical' }]),
              expect1('UpvestQueuePaused', '10m', []),
              expect1('UpvestQueuePaused', '13m', [{ severity: 'warning', queue: 'upvest-events' }]),
              expect1('UpvestNoActiveWorker', '8m', [{ severity: 'critical' }]),
              expect1('UpvestInboxEventsNotProjected', '14m', []),
              expect1('UpvestInboxEventsNotProjected', '17m', [{ severity: 'warning' }]),
              expect1('UpvestTargetDown', '8m', [{ severity: 'warning', job: API_JOB, instance: '10.0.0.1:9464' }]),
              expect1('UpvestTargetAbsent', '3m', []),
              expect1('UpvestTargetAbsent', '6m', [{ severity: 'critical', job: WORKER_JOB }]),
              expect1('UpvestPushSubscriptionFailing', '1m', []),
              expect1('UpvestPushSubscriptionFailing', '6m', []),
              expect1('UpvestPushSubscriptionFailing', '8m', [{ severity: 'warning', subscription: 's-failing' }]),
              expect1('UpvestPushDeliveryLagging', '15m', []),
              expect1('UpvestPushDeliveryLagging', '25m', []),
              expect1('UpvestPushDeliveryLagging', '27m', [{ severity: 'warning', subscription: 's-lagging' }]),
              expect1('UpvestPushRefusedTarget', '1m', [{ severity: 'warning', subscription: 's-http', reason: 'insecure_url' }]),
              expect1('UpvestPushRefusedTarget', '3m', [
                { severity: 'warning', subscription: 's-http', reason: 'insecure_url' },
                { severity: 'warning', subscription: 's-internal', reason: 'refused_target' },
              ]),
              // An hour after the last refused attempt still firing: the hourly retries keep it so.
              expect1('UpvestPushRefusedTarget', '66m', [
                { severity: 'warning', subscription: 's-http', reason: 'insecure_url' },
                { severity: 'warning', subscription: 's-internal', reason: 'refused_target' },
              ]),
              // 90 minutes without a refused attempt: resolved.
              expect1('UpvestPushRefusedTarget', '100m', []),
            ],
          },
        ],
      };
      writeFileSync(path.join(directory, 'tests.yaml'), stringify(tests));
      const result = promtool(['test', 'rules', 'tests.yaml']);
      expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
    });
  });
});
