import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { HttpInstruments } from '../../src/http/httpMetrics';
import { MetricsRegistry } from '../../src/metrics/MetricsRegistry';
import { MetricsServer, startMetricsServer } from '../../src/metrics/metricsServer';

const logger = createLogger('error', true);
const timeouts = loadConfig({}).http;

describe('the metrics server', () => {
  let server: MetricsServer;
  let url: string;

  beforeEach(async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    new HttpInstruments(metrics).signatureFailure('unknown_key');
    server = await startMetricsServer(metrics, { port: 0, path: '/metrics', timeouts }, logger);
    url = `http://127.0.0.1:${server.port}`;
  });

  afterEach(async () => {
    await server.close();
  });

  it('answers GET <path> in the Prometheus text format', async () => {
    const response = await fetch(`${url}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await response.text()).toContain('upvest_webhook_signature_failures_total{reason="unknown_key"} 1');
  });

  it('answers nothing else', async () => {
    expect((await fetch(`${url}/`)).status).toBe(404);
    expect((await fetch(`${url}/webhooks/upvest`, { method: 'POST', body: '{}' })).status).toBe(404);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses to start on a port that is taken, naming it', async () => {
    await expect(startMetricsServer(new MetricsRegistry({ defaultMetrics: false }), { port: server.port, path: '/metrics', timeouts }, logger)).rejects.toThrow(
      new RegExp(`metrics server cannot listen on port ${server.port}: .*EADDRINUSE`),
    );
  });

  it('stops listening on close, also with a keep-alive connection open', async () => {
    expect((await fetch(`${url}/metrics`)).status).toBe(200); // fetch keeps the connection alive

    await server.close();

    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
    server = await startMetricsServer(new MetricsRegistry({ defaultMetrics: false }), { port: 0, path: '/metrics', timeouts }, logger); // for afterEach
  });
});
