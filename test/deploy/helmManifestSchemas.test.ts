import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { K8sObject, PRODUCTION_VALUES, renderChart } from '../support/helm';

const VALIDATOR = path.join(__dirname, 'validateObjects.mjs');

/** One message per object that its apiVersion/kind's schema rejects (validateObjects.mjs). */
function schemaViolations(objects: K8sObject[]): string[] {
  const result = spawnSync(process.execPath, [VALIDATOR], { input: JSON.stringify(objects), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the validator failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

describe('rendered manifests against the Kubernetes and prometheus-operator schemas', () => {
  test.each([
    ['the default values', [], ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount']],
    [
      'the production values',
      ['-f', PRODUCTION_VALUES],
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'Job', 'NetworkPolicy', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceAccount', 'ServiceMonitor'],
    ],
  ])('every object rendered with %s is valid', (_, args, kinds) => {
    const objects = renderChart(args);
    expect([...new Set(objects.map((object) => object.kind))].sort()).toEqual(kinds);
    expect(schemaViolations(objects)).toEqual([]);
  }, 60_000);

  test('an object its schema rejects is reported, and so is a kind without a model', () => {
    const [deployment] = renderChart().filter((object) => object.kind === 'Deployment');
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'widget' } };
    expect(schemaViolations([deployment, unknown])).toEqual([
      expect.stringMatching(/^apps\/v1 Deployment release-upvest-webhook-receiver-api: .*containerPort must be integer/),
      'example.com/v1 Widget widget: no model for this apiVersion and kind',
    ]);
  }, 60_000);
});
