import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_DIR, K8sObject, PRODUCTION_VALUES, renderChart, runHelm } from '../support/helm';

const COMPONENTS = ['api', 'worker'] as const;
const ALERTS = [
  'UpvestQueueJobsFailed',
  'UpvestReconciliationFailing',
  'UpvestWebhookEventsQuarantined',
  'UpvestProjectionLagHigh',
  'UpvestWebhookSignatureFailuresSpike',
  'UpvestDependencyErrors',
  'UpvestRedisMayEvict',
  'UpvestQueueStalled',
  'UpvestQueuePaused',
  'UpvestNoActiveWorker',
  'UpvestInboxEventsNotProjected',
  'UpvestPushSubscriptionFailing',
  'UpvestPushDeliveryLagging',
  'UpvestPushRefusedTarget',
  'UpvestTargetDown',
  'UpvestTargetAbsent',
];

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ')}`);
  return found;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const isHook = (object: K8sObject) => object.metadata.annotations?.['helm.sh/hook'] !== undefined;

describe('Helm chart', () => {
  test('helm lint passes with the default and the production values', () => {
    for (const args of [[], ['-f', PRODUCTION_VALUES]]) {
      const result = runHelm(['lint', CHART_DIR, '--strict', ...args]);
      expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('0 chart(s) failed') });
    }
  }, 60_000);

  describe('default values', () => {
    const objects = renderChart();
    const deployment = (component: string) => named(objects, 'Deployment', `release-upvest-webhook-receiver-${component}`);

    test('render api and worker Deployments and nothing optional', () => {
      expect(ofKind(objects, 'Deployment').map((object) => object.metadata.name).sort()).toEqual([
        'release-upvest-webhook-receiver-api',
        'release-upvest-webhook-receiver-worker',
      ]);
      for (const kind of ['Ingress', 'NetworkPolicy', 'ServiceMonitor', 'PrometheusRule']) expect([kind, ofKind(objects, kind)]).toEqual([kind, []]);
      const names = objects.map((object) => `${object.kind}/${object.metadata.name}`);
      expect(new Set(names).size).toBe(names.length);
    });

    test.each(COMPONENTS)('the %s Deployment: role, probes, resources, ports, security, shutdown', (component) => {
      const spec = deployment(component).spec;
      const pod = spec.template.spec;
      const [container] = pod.containers;
      expect(pod.containers).toHaveLength(1);
      expect(spec.replicas).toBeUndefined(); // the HPA owns it
      expect(matches(spec.selector.matchLabels, spec.template.metadata.labels)).toBe(true);

      const env = Object.fromEntries(container.env.map((variable: { name: string; value: string }) => [variable.name, variable.value]));
      expect(env).toMatchObject({ ROLE: component, MIGRATE_ON_START: 'false' });
      // The image's entry point (tini) and CMD stay in charge.
      expect(container.command).toBeUndefined();
      expect(container.args).toBeUndefined();

      expect(container.ports).toEqual([
        { name: 'http', containerPort: 3000, protocol: 'TCP' },
        { name: 'metrics', containerPort: 9464, protocol: 'TCP' },
      ]);
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe.timeoutSeconds).toBeGreaterThanOrEqual(3); // /readyz's own checks take up to 2 s
      expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(container.resources.limits.memory).toBeDefined();

      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
      expect(pod.automountServiceAccountToken).toBe(false);

      // SHUTDOWN_TIMEOUT_MS (25 s) plus the preStop delay must fit.
      const preStop = Number(container.lifecycle?.preStop.exec.command[1] ?? 0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(25 + preStop);

      const keys = pod.topologySpreadConstraints.map((constraint: { topologyKey: string }) => constraint.topologyKey);
      expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
      for (const constraint of pod.topologySpreadConstraints) {
        expect(constraint.labelSelector.matchLabels['app.kubernetes.io/component']).toBe(component);
        expect(matches(constraint.labelSelector.matchLabels, spec.template.metadata.labels)).toBe(true);
      }
    });

    test('only the api waits before shutting down (the ingress must drop it first)', () => {
      expect(deployment('api').spec.template.spec.containers[0].lifecycle.preStop.exec.command).toEqual(['sleep', '5']);
      expect(deployment('worker').spec.template.spec.containers[0].lifecycle).toBeUndefined();
    });

    test('config from the ConfigMap, secrets from the generated Secret, both rolled out by checksum', () => {
      const configMap = named(objects, 'ConfigMap', 'release-upvest-webhook-receiver');
      expect(configMap.data).toMatchObject({
        NODE_ENV: 'production',
        PORT: '3000',
        METRICS_PORT: '9464',
        METRICS_PATH: '/metrics',
        WEBHOOK_PATH: '/webhooks/upvest',
        SHUTDOWN_TIMEOUT_MS: '25000',
      });
      expect(configMap.data).not.toHaveProperty('WEBHOOK_PUBLIC_URL');
      const secret = named(objects, 'Secret', 'release-upvest-webhook-receiver');
      expect(isHook(secret)).toBe(false);
      for (const component of COMPONENTS) {
        const template = deployment(component).spec.template;
        expect(template.spec.containers[0].envFrom).toEqual([
          { configMapRef: { name: configMap.metadata.name } },
          { secretRef: { name: secret.metadata.name } },
        ]);
        expect(Object.keys(template.metadata.annotations)).toEqual(['checksum/config', 'checksum/secret']);
      }
    });

    test('a generated Secret carries the values given, base64-encoded, and leaves empty ones out', () => {
      const rendered = renderChart(['--set', 'secrets.values.DATABASE_URL=postgresql://u:p@db:5432/upvest', '--set', 'secrets.values.ADMIN_TOKEN=0123456789abcdef0']);
      const secret = ofKind(rendered, 'Secret').filter((object) => !isHook(object));
      expect(secret).toHaveLength(1);
      expect(Object.keys(secret[0].data ?? {}).sort()).toEqual(['ADMIN_TOKEN', 'DATABASE_URL']);
      expect(Buffer.from(secret[0].data?.DATABASE_URL ?? '', 'base64').toString()).toBe('postgresql://u:p@db:5432/upvest');
    });

    test('one HPA per Deployment on CPU, and one PDB per Deployment', () => {
      for (const component of COMPONENTS) {
        const target = deployment(component);
        const hpa = named(objects, 'HorizontalPodAutoscaler', target.metadata.name);
        expect(hpa.apiVersion).toBe('autoscaling/v2');
        expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: target.metadata.name });
        expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
        expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
        const pdb = named(objects, 'PodDisruptionBudget', target.metadata.name);
        expect(pdb.spec.maxUnavailable).toBe(1);
        expect(matches(pdb.spec.selector.matchLabels, target.spec.template.metadata.labels)).toBe(true);
      }
    });

    test('migrations: a pre-install/pre-upgrade hook Job whose ConfigMap and Secret are hooks created before it', () => {
      const job = named(objects, 'Job', 'release-upvest-webhook-receiver-migrate');
      expect(job.metadata.annotations).toEqual({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-weight': '0',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const pod = job.spec.template.spec;
      const [container] = pod.containers;
      expect(pod.restartPolicy).toBe('Never');
      expect(container.command).toBeUndefined(); // keeps tini
      expect(container.args).toEqual(['node', 'dist/tools/migrate.js']);
      expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      // Neither the release's ServiceAccount nor its ConfigMap/Secret exist yet when a pre-install hook runs.
      expect(pod.serviceAccountName).toBeUndefined();
      for (const reference of container.envFrom) {
        const [kind, name] = reference.configMapRef ? ['ConfigMap', reference.configMapRef.name] : ['Secret', reference.secretRef.name];
        const source = named(objects, kind, name);
        expect(source.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
        expect(Number(source.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(0);
        expect(source.metadata.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
      }
      const copy = named(objects, 'ConfigMap', 'release-upvest-webhook-receiver-migrate');
      expect(copy.data).toEqual(named(objects, 'ConfigMap', 'release-upvest-webhook-receiver').data);
    });

    test('without the hook Job the pods migrate at start', () => {
      const rendered = renderChart(['--set', 'migrations.enabled=false']);
      expect(ofKind(rendered, 'Job')).toEqual([]);
      for (const object of ofKind(rendered, 'Deployment')) {
        expect(object.spec.template.spec.containers[0].env).toContainEqual({ name: 'MIGRATE_ON_START', value: 'true' });
      }
    });

    test('the Service exposes http and metrics of the api pods; the worker gets a metrics-only Service', () => {
      const api = named(objects, 'Service', 'release-upvest-webhook-receiver');
      expect(api.spec.ports.map((port: { name: string; targetPort: string }) => [port.name, port.targetPort])).toEqual([
        ['http', 'http'],
        ['metrics', 'metrics'],
      ]);
      expect(matches(api.spec.selector, deployment('api').spec.template.metadata.labels)).toBe(true);
      const worker = named(objects, 'Service', 'release-upvest-webhook-receiver-worker');
      expect(worker.spec.ports.map((port: { name: string }) => port.name)).toEqual(['metrics']);
      expect(matches(worker.spec.selector, deployment('worker').spec.template.metadata.labels)).toBe(true);
    });

    test('autoscaling off renders replicas and no HPA', () => {
      const rendered = renderChart(['--set', 'api.autoscaling.enabled=false', '--set', 'api.replicas=3']);
      expect(named(rendered, 'Deployment', 'release-upvest-webhook-receiver-api').spec.replicas).toBe(3);
      expect(ofKind(rendered, 'HorizontalPodAutoscaler').map((object) => object.metadata.name)).toEqual(['release-upvest-webhook-receiver-worker']);
    });
  });

  describe('production values', () => {
    const objects = renderChart(['-f', PRODUCTION_VALUES]);
    const existingSecret = 'upvest-webhook-receiver-secrets';
    const cidrs = ['192.0.2.10/32', '192.0.2.11/32', '198.51.100.0/28'];

    test('the Ingress exposes only the webhook path, with TLS and the class and annotations given', () => {
      const [ingress] = ofKind(objects, 'Ingress');
      expect(ingress.spec.ingressClassName).toBe('nginx');
      expect(ingress.spec.tls).toEqual([{ hosts: ['hooks.example.com'], secretName: 'hooks-example-com-tls' }]);
      expect(ingress.spec.rules).toEqual([
        {
          host: 'hooks.example.com',
          http: {
            paths: [
              {
                path: '/webhooks/upvest',
                pathType: 'Exact',
                backend: { service: { name: 'release-upvest-webhook-receiver', port: { name: 'http' } } },
              },
            ],
          },
        },
      ]);
      expect(ingress.metadata.annotations).toEqual({
        'cert-manager.io/cluster-issuer': 'letsencrypt',
        'nginx.ingress.kubernetes.io/whitelist-source-range': cidrs.join(','),
        'nginx.ingress.kubernetes.io/proxy-body-size': '5242880',
      });
    });

    test("the ingress controller's body limit follows WEBHOOK_BODY_LIMIT_BYTES, through the annotation configured", () => {
      const annotationsOf = (args: string[]) => ofKind(renderChart(['-f', PRODUCTION_VALUES, ...args]), 'Ingress')[0].metadata.annotations ?? {};
      // ingress-nginx would answer 413 above its default of 1 MiB, and Upvest retries that delivery forever.
      expect(annotationsOf([])['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('5242880');
      expect(annotationsOf(['--set', 'config.WEBHOOK_BODY_LIMIT_BYTES=10485760'])['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('10485760');
      const nginxInc = annotationsOf(['--set', 'ingress.bodySizeAnnotation=nginx.org/client-max-body-size']);
      expect(nginxInc['nginx.org/client-max-body-size']).toBe('5242880');
      expect(nginxInc).not.toHaveProperty('nginx.ingress.kubernetes.io/proxy-body-size');
      expect(Object.keys(annotationsOf(['--set', 'ingress.bodySizeAnnotation=']))).toEqual(['cert-manager.io/cluster-issuer', 'nginx.ingress.kubernetes.io/whitelist-source-range']);
    });

    test('WEBHOOK_PUBLIC_URL is the https URL of the ingress host and path', () => {
      expect(named(objects, 'ConfigMap', 'release-upvest-webhook-receiver').data?.WEBHOOK_PUBLIC_URL).toBe('https://hooks.example.com/webhooks/upvest');
    });

    test('the ingress path follows webhook.path, and can differ when the ingress rewrites', () => {
      const moved = renderChart(['-f', PRODUCTION_VALUES, '--set', 'webhook.path=/hooks/upvest']);
      expect(ofKind(moved, 'Ingress')[0].spec.rules[0].http.paths[0].path).toBe('/hooks/upvest');
      const rewritten = renderChart(['-f', PRODUCTION_VALUES, '--set', 'ingress.path=/upvest/webhooks/upvest']);
      expect(ofKind(rewritten, 'Ingress')[0].spec.rules[0].http.paths[0].path).toBe('/upvest/webhooks/upvest');
      expect(named(rewritten, 'ConfigMap', 'release-upvest-webhook-receiver').data).toMatchObject({
        WEBHOOK_PATH: '/webhooks/upvest',
        WEBHOOK_PUBLIC_URL: 'https://hooks.example.com/upvest/webhooks/upvest',
      });
    });

    test('with existingSecret no Secret is rendered and every pod reads the existing one', () => {
      expect(ofKind(objects, 'Secret')).toEqual([]);
      const pods = [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'Job')].map((object) => object.spec.template.spec);
      expect(pods).toHaveLength(3);
      for (const pod of pods) expect(pod.containers[0].envFrom).toContainEqual({ secretRef: { name: existingSecret } });
      for (const object of ofKind(objects, 'Deployment')) expect(object.spec.template.metadata.annotations).not.toHaveProperty('checksum/secret');
    });

    test('the image is pinned by digest', () => {
      for (const object of [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'Job')]) {
        expect(object.spec.template.spec.containers[0].image).toBe(
          'registry.example.com/payments/upvest-webhook-receiver@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        );
      }
    });

    test('the worker HPA can scale on queue depth as well', () => {
      const hpa = named(objects, 'HorizontalPodAutoscaler', 'release-upvest-webhook-receiver-worker');
      expect(hpa.spec.metrics.map((metric: { type: string }) => metric.type)).toEqual(['Resource', 'External']);
      expect(hpa.spec.metrics[1].external.metric).toEqual({ name: 'upvest_queue_jobs', selector: { matchLabels: { state: 'waiting', queue: 'upvest-events' } } });
    });

    test("NetworkPolicies: http only from the ingress controller, Upvest's CIDRs and the listed clients, metrics only from Prometheus", () => {
      const api = named(objects, 'NetworkPolicy', 'release-upvest-webhook-receiver-api');
      const worker = named(objects, 'NetworkPolicy', 'release-upvest-webhook-receiver-worker');
      expect(api.spec.policyTypes).toEqual(['Ingress']);
      const [http, metrics] = api.spec.ingress;
      expect(http.ports).toEqual([{ port: 'http', protocol: 'TCP' }]);
      expect(http.from.filter((peer: { ipBlock?: unknown }) => peer.ipBlock).map((peer: { ipBlock: { cidr: string } }) => peer.ipBlock.cidr)).toEqual(cidrs);
      expect(http.from[0]).toEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} });
      // The read and admin APIs' callers inside the cluster.
      expect(http.from.at(-1)).toEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'ledger' } },
      });
      expect(http.from).toHaveLength(1 + cidrs.length + 1);
      for (const rule of [metrics, ...worker.spec.ingress]) {
        expect(rule.ports).toEqual([{ port: 'metrics', protocol: 'TCP' }]);
        expect(rule.from).toEqual([
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ]);
      }
      expect(worker.spec.ingress).toHaveLength(1);
      for (const component of COMPONENTS) {
        const policy = named(objects, 'NetworkPolicy', `release-upvest-webhook-receiver-${component}`);
        const pods = named(objects, 'Deployment', `release-upvest-webhook-receiver-${component}`).spec.template.metadata.labels;
        expect(matches(policy.spec.podSelector.matchLabels, pods)).toBe(true);
      }
    });

    test('a NetworkPolicy rule never ends up without peers (which would allow everyone)', () => {
      const rendered = renderChart([
        '-f',
        PRODUCTION_VALUES,
        '--set-json',
        'upvestSourceCidrs={"sandbox":[],"live":[]}',
        '--set',
        'networkPolicy.ingressController.namespaceSelector=null',
        '--set-json',
        'networkPolicy.clients=[]',
      ]);
      for (const policy of ofKind(rendered, 'NetworkPolicy')) {
        for (const rule of policy.spec.ingress) expect(rule.from.length).toBeGreaterThan(0);
        expect(policy.spec.ingress.map((rule: { ports: Array<{ port: string }> }) => rule.ports[0].port)).toEqual(['metrics']);
      }
    });

    test('the ServiceMonitor scrapes the metrics port of both Services, which the Ingress never routes to', () => {
      const [monitor] = ofKind(objects, 'ServiceMonitor');
      expect(monitor.metadata.labels?.release).toBe('kube-prometheus-stack');
      expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
      expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['payments'] });
      const scraped = ofKind(objects, 'Service').filter(
        (service) =>
          matches(monitor.spec.selector.matchLabels, service.metadata.labels) &&
          monitor.spec.selector.matchExpressions.every((expression: { key: string; values: string[] }) =>
            expression.values.includes(service.metadata.labels?.[expression.key] ?? ''),
          ),
      );
      expect(scraped.map((service) => service.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual(['api', 'worker']);
      for (const service of scraped) expect(service.spec.ports.map((port: { name: string }) => port.name)).toContain('metrics');
      const backends = ofKind(objects, 'Ingress').flatMap((ingress) => ingress.spec.rules.flatMap((rule: { http: { paths: Array<{ backend: { service: { port: { name: string } } } }> } }) => rule.http.paths));
      expect(backends.map((entry) => entry.backend.service.port.name)).toEqual(['http']);
    });

    test('the PrometheusRule has its alerts with summary, description and a runbook anchor in docs/operations.md', () => {
      const [rule] = ofKind(objects, 'PrometheusRule');
      const alerts = rule.spec.groups.flatMap((group: { rules: unknown[] }) => group.rules) as Array<{
        alert: string;
        expr: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      }>;
      expect(alerts.map((alert) => alert.alert)).toEqual(ALERTS);
      const operations = readFileSync(path.resolve(CHART_DIR, '../../docs/operations.md'), 'utf8');
      for (const alert of ALERTS) expect(operations).toContain(`#### Runbook: ${alert}\n`);
      for (const alert of alerts) {
        expect(alert.annotations).toEqual({
          summary: expect.any(String),
          description: expect.any(String),
          runbook_url: `https://git.example.com/payments/upvest-webhook-receiver/blob/main/docs/operations.md#runbook-${alert.alert.toLowerCase()}`,
        });
        expect(alert.labels).toEqual({ severity: expect.stringMatching(/^(critical|warning)$/), team: 'payments' });
        expect(alert.expr).toContain('namespace="payments"');
      }
      const expr = Object.fromEntries(alerts.map((alert) => [alert.alert, alert.expr]));
      expect(expr.UpvestQueueJobsFailed).toMatch(/upvest_queue_jobs\{queue="upvest-events",state="failed",.*\}\) > 0$/);
      expect(expr.UpvestReconciliationFailing).toMatch(/upvest_queue_jobs\{queue="upvest-reconciliation",state="failed",.*\}\) > 0$/);
      expect(expr.UpvestWebhookEventsQuarantined).toMatch(/upvest_quarantine_pending\{.*\}\) > 0$/);
      expect(expr.UpvestProjectionLagHigh).toMatch(/^histogram_quantile\(0\.99, .*upvest_projection_lag_seconds_bucket\{.*\}\[5m\]\)\)\) > 60$/);
      expect(expr.UpvestWebhookSignatureFailuresSpike).toMatch(/rate\(upvest_webhook_signature_failures_total\{.*\}\[5m\]\)\) > 0\.1$/);
      expect(expr.UpvestDependencyErrors).toMatch(/upvest_dependency_errors_total\{/);
      expect(expr.UpvestRedisMayEvict).toMatch(/upvest_redis_maxmemory_policy\{policy!~"noeviction\|unknown",.*\}\) > 0$/);
      expect(alerts.find((alert) => alert.alert === 'UpvestWebhookSignatureFailuresSpike')).toMatchObject({ for: '10m' });
    });

    test('the alerts carry no runbook_url while runbookBaseUrl is empty, its default', () => {
      const rendered = renderChart(['-f', PRODUCTION_VALUES, '--set', 'prometheusRule.runbookBaseUrl=']);
      const [rule] = ofKind(rendered, 'PrometheusRule');
      const annotations = rule.spec.groups.flatMap((group: { rules: Array<{ annotations: object }> }) => group.rules.map((alert) => alert.annotations));
      expect(annotations).toHaveLength(ALERTS.length);
      for (const annotation of annotations) expect(Object.keys(annotation)).toEqual(['summary', 'description']);
    });
  });

  describe('long release names', () => {
    // Helm's longest release name is 53 characters; suffixes such as -migrate must still fit into 63.
    const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
    const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

    test.each(['payments-upvest-webhooks-eu-central-prod', 'payments-upvest-webhooks-eu-central-prod-blue-green-a'])(
      'every name and label value rendered for %s is a valid DNS label of at most 63 characters',
      (release) => {
        expect([40, 53]).toContain(release.length);
        for (const args of [[], ['-f', PRODUCTION_VALUES, '--set', 'ingress.tls.secretName=']]) {
          const objects = renderChart(args, release);
          const names = objects.flatMap((object) => [
            object.metadata.name,
            ...(object.kind === 'Ingress' ? object.spec.tls.map((tls: { secretName: string }) => tls.secretName) : []),
            ...(object.spec?.template?.spec?.serviceAccountName ? [object.spec.template.spec.serviceAccountName] : []),
          ]);
          expect(names.filter((name) => name.length > 63 || !DNS_LABEL.test(name))).toEqual([]);
          const labelValues = objects.flatMap((object) =>
            [object.metadata.labels, object.spec?.template?.metadata?.labels, object.spec?.selector?.matchLabels, object.spec?.selector].flatMap(
              (labels) => Object.values((labels ?? {}) as Record<string, unknown>).filter((value): value is string => typeof value === 'string'),
            ),
          );
          expect(labelValues.filter((value) => value.length > 63 || !LABEL_VALUE.test(value))).toEqual([]);
        }
      },
      60_000,
    );
  });

  test('values.yaml documents every setting with a comment above it', () => {
    // Children of these are Kubernetes fields passed through as they are, described by their parent's comment.
    const passedThrough = new Set(['resources', 'podSecurityContext', 'containerSecurityContext', 'ingressController', 'prometheus']);
    const lines = readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8').split('\n');
    const parents: Array<{ indent: number; key: string }> = [];
    const undocumented: string[] = [];
    lines.forEach((line, index) => {
      const match = /^( *)([A-Za-z][\w.-]*):/.exec(line);
      if (match === null) return;
      const indent = match[1].length;
      while (parents.length > 0 && parents[parents.length - 1].indent >= indent) parents.pop();
      const parent = parents[parents.length - 1]?.key;
      if (!(parent !== undefined && passedThrough.has(parent)) && !/^\s*#/.test(lines[index - 1] ?? '')) undocumented.push(`${index + 1}: ${line.trim()}`);
      parents.push({ indent, key: match[2] });
    });
    expect(undocumented).toEqual([]);
  });

  describe('NOTES.txt', () => {
    /** The notes `helm install` prints; a client-side dry run renders them without a cluster. */
    const notesOf = (args: string[]) => {
      const result = runHelm(['install', 'release', CHART_DIR, '--dry-run=client', '-n', 'payments', ...args]);
      expect(result.stderr).toBe('');
      return result.stdout.slice(result.stdout.indexOf('NOTES:'));
    };

    test('tells the webhook URL to register, and how', () => {
      const notes = notesOf(['-f', PRODUCTION_VALUES]);
      expect(notes).toContain('The webhook URL to register at Upvest:\n\n     https://hooks.example.com/webhooks/upvest\n');
      expect(notes).toContain('exec deploy/release-upvest-webhook-receiver-api -- \\\n       node dist/tools/cli.js webhooks register --url "https://hooks.example.com/webhooks/upvest"');
      expect(notes).not.toContain('WARNING');
    });

    test('says when there is no public URL, and warns about one that is not https', () => {
      expect(notesOf([])).toContain('No public URL: the ingress is disabled and webhook.publicUrl is empty.');
      expect(notesOf(['--set', 'webhook.publicUrl=http://hooks.example.com/webhooks/upvest'])).toContain('WARNING: Upvest delivers over HTTPS only');
    });
  });

  describe('invalid values are refused', () => {
    test.each([
      [['--set', 'api.replicas=two'], /at '\/api\/replicas': got string, want integer/],
      [['--set', 'api.replica=2'], /additional properties 'replica' not allowed/],
      [['--set', 'upvestSourceCidrs.live[0]=not-a-cidr'], /upvestSourceCidrs\/live\/0/],
      [['--set', 'ingress.enabled=true'], /ingress\.host is required/],
      [['--set-json', 'networkPolicy.clients=[{}]'], /networkPolicy\/clients\/0/],
      [['--set', 'config.SHUTDOWN_TIMEOUT_MS=60000'], /api\.terminationGracePeriodSeconds \(40\) must be at least/],
      [['--set', 'secrets.values.ADMIN_TOKEN=fifteen-chars15'], /at '\/secrets\/values\/ADMIN_TOKEN': .*\n.*\n.*minLength: got 15, want 16/],
      [['--set', 'secrets.values.READ_API_TOKEN=short'], /at '\/secrets\/values\/READ_API_TOKEN': .*\n.*\n.*minLength: got 5, want 16/],
      [['--set', 'config.LOG_LEVEL=loud'], /at '\/config\/LOG_LEVEL': value must be one of '', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'/],
      [['--set', 'config.WEBHOOK_BODY_LIMIT_BYTES=100'], /at '\/config\/WEBHOOK_BODY_LIMIT_BYTES': minimum: got 100, want 1,024/],
      [['--set', 'api.autoscaling.minReplicas=11'], /api\.autoscaling\.minReplicas \(11\) must not exceed api\.autoscaling\.maxReplicas \(10\)/],
      [['--set', 'worker.autoscaling.maxReplicas=1'], /worker\.autoscaling\.minReplicas \(2\) must not exceed worker\.autoscaling\.maxReplicas \(1\)/],
      [['--set', 'api.podDisruptionBudget.maxUnavailable=0'], /at '\/api\/podDisruptionBudget\/maxUnavailable': .*\n.*minimum: got 0, want 1/],
      [['--set-string', 'worker.podDisruptionBudget.maxUnavailable=0%'], /at '\/worker\/podDisruptionBudget\/maxUnavailable': .*\n.*\n.*'0%' does not match pattern/],
      [['--set', 'containerPorts.metrics=3000'], /containerPorts\.metrics \(3000\) must differ from containerPorts\.http/],
      [['--set', 'service.port=9464'], /service\.port \(9464\) must differ from containerPorts\.metrics/],
    ])('%j', (args, message) => {
      const result = runHelm(['template', 'release', CHART_DIR, ...args]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(message);
    });
  });
});
