import { Config } from '../config/config';
import { createApp } from '../http/createApp';
import { Logger } from '../logging/logger';
import { MetricsServer, startMetricsServer } from '../metrics/metricsServer';
import { HttpServer } from '../shared/HttpServer';
import type { ApiRole } from './apiRole';
import { migrateIfConfigured } from './infrastructure';
import { OpenResources } from './OpenResources';
import { openServiceInfrastructure } from './serviceInfrastructure';
import type { WorkerRole } from './workerRole';

export interface RunningService {
  port: number;
  /** Where GET <METRICS_PATH> answers: a port of its own, or `port` when METRICS_PORT=0. */
  metricsPort: number;
  /** Stops accepting requests, lets in-flight requests and active jobs finish, then disconnects. */
  close(): Promise<void>;
  /** Drops open connections at once, for when close() takes longer than the shutdown timeout. */
  forceClose(): void;
}

/**
 * Starts the service in its role: the api (webhook endpoint, admin and read APIs), the worker
 * (projection, inbox sweeper, reconciliation), or both; the HTTP server, which every role has for
 * its health endpoints, and the metrics server. A start that fails half way closes what it opened.
 */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  await migrateIfConfigured(config.database, logger);
  const resources = new OpenResources(logger);
  let metricsServer: MetricsServer | undefined;
  let worker: WorkerRole | undefined;
  try {
    const infrastructure = openServiceInfrastructure(config, logger, resources);
    const { metrics } = infrastructure;
    if (config.metrics.port !== 0) metricsServer = await startMetricsServer(metrics.registry, { ...config.metrics, timeouts: config.http }, logger);
    const runsApi = config.role === 'api' || config.role === 'all';
    const runsWorker = config.role === 'worker' || config.role === 'all';
    // Each role's modules are loaded only where it runs: a worker loads no receiver, admin or read API; an api no projection or reconciliation.
    const api: ApiRole | undefined = runsApi ? await (await import('./apiRole')).wireApi(config, logger, infrastructure) : undefined;
    if (runsWorker) worker = await (await import('./workerRole')).startWorkerRole(config, logger, infrastructure);
    const app = createApp({
      logger,
      readinessChecks: [infrastructure.databaseReadiness, ...(api?.readinessChecks ?? []), ...(worker?.readinessChecks ?? [])],
      webhook: api?.webhook,
      metrics: metrics.http,
      metricsEndpoint: metricsServer === undefined ? { path: config.metrics.path, registry: metrics.registry } : undefined,
      routers: api?.routers,
    });
    const server = new HttpServer(app, config.http);
    const port = await server.listen(config.port);
    const metricsPort = metricsServer?.port ?? port;
    logger.info('service started', {
      role: config.role,
      port,
      webhookPath: runsApi ? config.webhook.path : undefined,
      metricsPort,
      metricsPath: config.metrics.path,
    });
    const startedMetricsServer = metricsServer;
    const startedWorker = worker;
    return {
      port,
      metricsPort,
      async close() {
        app.locals.shuttingDown = true;
        // The HTTP servers and the worker drain in parallel; connections close after them.
        await Promise.all([server.close(), startedMetricsServer?.close(), startedWorker?.stop()]);
        await resources.closeAll();
        logger.info('service stopped');
      },
      forceClose() {
        server.forceClose();
        startedMetricsServer?.forceClose();
      },
    };
  } catch (error) {
    // A start that failed half way (a taken port, Redis away at start) leaves nothing open.
    await Promise.all([metricsServer?.close(), worker?.stop()]);
    await resources.closeAll();
    throw error;
  }
}
