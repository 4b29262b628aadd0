import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { K8sObject, renderChart } from '../support/helm';
import { prometheusTools } from '../support/prometheus';
import { startTestService, TestService } from '../support/testService';

interface Dashboard {
  templating: { list: Array<{ name: string; type: string; definition?: string }> };
  panels: Array<Panel | Row>;
}

interface Panel {
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
  targets: Array<{ expr: string }>;
}

/** A row heads the panels below it; it queries nothing. */
interface Row {
  type: 'row';
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
}

const isRow = (panel: Panel | Row): panel is Row => panel.type === 'row';

const DASHBOARD_KEY = 'upvest-webhook-receiver.json';

function dashboardConfigMaps(args: string[]): K8sObject[] {
  return renderChart(args).filter((object) => object.kind === 'ConfigMap' && object.data?.[DASHBOARD_KEY] !== undefined);
}

function renderDashboard(args: string[] = []): { configMap: K8sObject; dashboard: Dashboard } {
  const [configMap, ...others] = dashboardConfigMaps(['--set', 'grafanaDashboard.enabled=true', ...args]);
  if (configMap === undefined || others.length > 0) throw new Error('expected one dashboard ConfigMap');
  return { configMap, dashboard: JSON.parse(configMap.data?.[DASHBOARD_KEY] ?? '') as Dashboard };
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/**
 * The metric names of a PromQL expression: identifiers that are not function calls, keywords,
 * label names (inside {…} or by (…)), strings or durations.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)].filter(([, , call]) => call === undefined).map(([, name]) => name);
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name)))];
}

/** Series names /metrics exposes: a histogram as its _bucket, _sum and _count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

/** The expression as Prometheus sees it once Grafana has filled in its variables. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m').replace(/\$\{?namespace\}?/g, 'payments');
}

describe('Grafana dashboard', () => {
  const { configMap, dashboard } = renderDashboard();
  const panels = dashboard.panels.filter((panel): panel is Panel => !isRow(panel));
  const exprs = panels.flatMap((panel) => panel.targets.map((target) => target.expr));

  test('is off by default', () => {
    expect(dashboardConfigMaps([])).toEqual([]);
  });

  test('is a ConfigMap the Grafana sidecar picks up, with overridable labels, annotations and namespace', () => {
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(configMap.metadata).toMatchObject({ namespace: 'payments' });

    const custom = renderDashboard([
      '--set',
      'grafanaDashboard.namespace=monitoring',
      '--set',
      'grafanaDashboard.labels.grafana_dashboard=null',
      '--set',
      'grafanaDashboard.labels.dashboards=upvest',
      '--set',
      'grafanaDashboard.annotations.grafana_folder=Payments',
    ]).configMap;
    expect(custom.metadata).toMatchObject({ namespace: 'monitoring', annotations: { grafana_folder: 'Payments' }, labels: { dashboards: 'upvest' } });
    expect(custom.metadata.labels).not.toHaveProperty('grafana_dashboard');
  });

  test('asks for the data source, and every panel queries through it', () => {
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
    for (const panel of panels) expect([panel.title, panel.datasource.uid]).toEqual([panel.title, '${datasource}']);
  });

  test('has the panels of the deliveries, the queue, the projection, quarantine, reconciliation, dependencies and push', () => {
    const used = new Set(exprs.flatMap(metricNames));
    for (const name of [
      'upvest_http_request_duration_seconds_count',
      'upvest_webhook_events_total',
      'upvest_webhook_signature_failures_total',
      'upvest_http_request_duration_seconds_bucket',
      'upvest_queue_jobs',
      'upvest_queue_oldest_waiting_seconds',
      'upvest_projection_lag_seconds_bucket',
      'upvest_quarantine_pending',
      'upvest_reconciliation_corrected_total',
      'upvest_reconciliation_runs_total',
      'upvest_dependency_errors_total',
      'upvest_push_deliveries_total',
      'upvest_push_failures_total',
      'upvest_push_delivery_lag_seconds_bucket',
      'upvest_push_oldest_undelivered_seconds',
      'upvest_push_subscription_failing',
    ])
      expect([name, used.has(name)]).toEqual([name, true]);
  });

  test('the push panels sit in a Push row, per subscription, with the gauges read from Postgres aggregated by max', () => {
    const rows = dashboard.panels.filter(isRow);
    expect(rows.map((row) => row.title)).toEqual(['Push']);
    const below = panels.filter((panel) => panel.gridPos.y > rows[0].gridPos.y);
    const pushExprs = below.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(pushExprs.length).toBeGreaterThan(0);
    for (const expr of pushExprs) expect(metricNames(expr).every((name) => name.startsWith('upvest_push_'))).toBe(true);
    for (const panel of panels.filter((candidate) => !below.includes(candidate))) {
      for (const target of panel.targets) expect(target.expr).not.toContain('upvest_push_');
    }
    for (const expr of pushExprs.filter((candidate) => candidate.includes('_seconds{') || candidate.includes('_failing{'))) expect(expr).toMatch(/max by \(subscription\)/);
    for (const expr of pushExprs.filter((candidate) => candidate.includes('rate('))) expect(expr).toMatch(/by \(subscription[,)]/);
    expect(pushExprs).toContainEqual(expect.stringMatching(/^histogram_quantile\(0\.99, sum by \(subscription, le\) \(rate\(upvest_push_delivery_lag_seconds_bucket/));
  });

  test('the ack latency reads the route of webhook.path', () => {
    const latency = (objects: Dashboard) => objects.panels.find((panel): panel is Panel => !isRow(panel) && panel.title === 'Ack latency')?.targets.map((target) => target.expr) ?? [];
    expect(latency(dashboard)).toEqual([expect.stringContaining('route="/webhooks/upvest"'), expect.stringContaining('route="/webhooks/upvest"')]);
    const moved = renderDashboard(['--set', 'webhook.path=/hooks/payments']).dashboard;
    for (const expr of latency(moved)) expect(expr).toContain('route="/hooks/payments"');
    expect(JSON.stringify(moved)).not.toContain('__WEBHOOK_PATH__');
  });

  describe('against a running service', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService({ METRICS_PORT: '0' });
    }, 60_000);
    afterAll(() => service?.stop());

    test("uses only metrics the service's /metrics exposes", async () => {
      const response = await fetch(service.metricsUrl);
      expect(response.status).toBe(200);
      const exposed = exposedNames(await response.text());
      const variableQueries = dashboard.templating.list.flatMap((variable) => (variable.definition === undefined ? [] : [variable.definition.replace(/^label_values\(([^,]+),.*$/, '$1')]));
      const used = [...new Set([...exprs, ...variableQueries].flatMap(metricNames))];
      expect(used.length).toBeGreaterThan(5);
      expect(used.filter((name) => !exposed.has(name))).toEqual([]);
    });
  });

  const tools = prometheusTools();
  (tools === undefined ? describe.skip : describe)('with promtool', () => {
    let directory: string;
    beforeAll(() => {
      directory = mkdtempSync(path.join(os.tmpdir(), 'upvest-dashboard-'));
    });
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    test('every query is valid PromQL (promtool check rules)', () => {
      const rules = exprs.map((expr, index) => ({ record: `dashboard:panel_${index + 1}`, expr: withoutGrafanaVariables(expr) }));
      for (const rule of rules) expect(rule.expr).not.toContain('$');
      const file = path.join(directory, 'dashboard-rules.yaml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
      const result = spawnSync(tools?.promtool ?? '', ['check', 'rules', file], { encoding: 'utf8' });
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
    });
  });
});
