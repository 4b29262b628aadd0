import { Router } from 'express';
import { createAdminRouter } from './admin/createAdminRouter';
import { Components, createComponents } from './compose';
import { Config } from './config/config';
import { createApp } from './http/createApp';
import { InboxSweeper } from './inbox/InboxSweeper';
import { Logger } from './logging/logger';
import { MetricsServer, startMetricsServer } from './metrics/metricsServer';
import { ProjectionWorker } from './projection/ProjectionWorker';
import { createReadApiRouter } from './readApi/createReadApiRouter';
import { ReconciliationScheduler } from './reconciliation/ReconciliationScheduler';
import { HttpServer } from './shared/HttpServer';

export interface RunningService {
  port: number;
  /** Where GET <METRICS_PATH> answers: a port of its own, or `port` when METRICS_PORT=0. */
  metricsPort: number;
  /** Stops accepting requests, lets in-flight requests and active jobs finish, then disconnects. */
  close(): Promise<void>;
  /** Drops open connections at once, for when close() takes longer than the shutdown timeout. */
  forceClose(): void;
}

/** The long-running pieces of the worker role, stopped in this order. */
interface WorkerPieces {
  worker: ProjectionWorker;
  sweeper: InboxSweeper;
  scheduler?: ReconciliationScheduler;
}

/** Starts the service in its role (api, worker or all): listening, the worker, and their shutdown. */
export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const components = await createComponents(config, logger, config.role);
  let metricsServer: MetricsServer | undefined;
  let workerPieces: WorkerPieces | undefined;
  try {
    if (config.metrics.port !== 0) metricsServer = await startMetricsServer(components.metrics, { ...config.metrics, timeouts: config.http }, logger);
    const readinessChecks = components.readinessChecks();
    if (components.runsWorker) workerPieces = await startWorker(components);
    const app = createApp({
      logger,
      readinessChecks,
      webhook: components.runsApi ? webhookOptions(components) : undefined,
      metrics: components.metrics,
      metricsPath: metricsServer === undefined ? config.metrics.path : undefined,
      routers: components.runsApi ? operatorRouters(components) : [],
    });
    const server = new HttpServer(app, config.http);
    const port = await server.listen(config.port);
    const metricsPort = metricsServer?.port ?? port;
    logger.info('service started', {
      role: config.role,
      port,
      webhookPath: components.runsApi ? config.webhook.path : undefined,
      metricsPort,
      metricsPath: config.metrics.path,
    });
    const startedMetricsServer = metricsServer;
    const startedWorker = workerPieces;
    return {
      port,
      metricsPort,
      async close() {
        app.locals.shuttingDown = true;
        // The HTTP servers and the worker drain in parallel; connections close after them.
        await Promise.all([server.close(), startedMetricsServer?.close(), startedWorker && stopWorker(startedWorker)]);
        await components.close();
        logger.info('service stopped');
      },
      forceClose() {
        server.forceClose();
        startedMetricsServer?.forceClose();
      },
    };
  } catch (error) {
    // A start that failed half way (a taken port, Redis away at start) leaves nothing open.
    await Promise.all([metricsServer?.close(), workerPieces && stopWorker(workerPieces)]);
    await components.close();
    throw error;
  }
}

function webhookOptions(components: Components): Parameters<typeof createApp>[0]['webhook'] {
  const { config } = components;
  return {
    path: config.webhook.path,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    publicUrl: config.webhook.publicUrl,
    retryAfterSeconds: config.ingest.retryAfterSeconds,
    verifySignature: components.verifySignature,
    ingestor: components.ingestor,
  };
}

/** The admin API and the read API, each on when its token is set; on the HTTP port, where the Helm ingress exposes only the webhook path. */
function operatorRouters(components: Components): Array<[string, Router]> {
  const { config, logger } = components;
  const routers: Array<[string, Router]> = [];
  if (config.adminToken !== undefined) {
    const queues = [components.projectionJobs.queue, components.reconciliationQueue];
    routers.push(['/admin', createAdminRouter({ token: config.adminToken, operations: components, queues, logger })]);
  }
  if (config.readApiToken !== undefined) routers.push(['/', createReadApiRouter({ token: config.readApiToken, reader: components.paymentReader, changes: components.changeRoutes, logger })]);
  return routers;
}

/** The projection worker, the inbox sweeper and, with the provider's API, the periodic reconciliation. */
async function startWorker(components: Components): Promise<WorkerPieces> {
  const { config, logger, metrics } = components;
  components.redisSettings.check().catch(() => undefined); // says at start what it found; readiness says the rest
  const worker = new ProjectionWorker(components.projectionStore, components.inbox, components.projectionJobs, logger, {
    connection: components.workerConnection,
    concurrency: config.worker.concurrency,
    batchSize: config.worker.batchSize,
    batchWaitMs: config.worker.batchWaitMs,
    retryPolicy: components.retryPolicy,
    lockDurationMs: config.worker.lockDurationMs,
    metrics,
  });
  const sweeper = new InboxSweeper(components.inbox, components.projectionJobs, logger, {
    intervalMs: config.inbox.sweepIntervalMs,
    minAgeSeconds: config.inbox.sweepAfterSeconds,
    batchSize: config.worker.batchSize,
    metrics,
  });
  worker.start();
  sweeper.start();
  const reconciler = components.reconciler;
  if (reconciler === undefined) {
    logger.info('reconciliation is off: no Upvest API credentials configured');
    return { worker, sweeper };
  }
  const scheduler = new ReconciliationScheduler(reconciler, components.reconciliationQueue, logger, {
    connection: components.workerConnection,
    intervalMs: config.reconciliation.intervalMs,
  });
  const pieces = { worker, sweeper, scheduler };
  await scheduler.start().catch(async (error) => {
    await stopWorker(pieces);
    throw error;
  });
  return pieces;
}

/** The active jobs and a running reconciliation finish; then the sweeper stops. */
async function stopWorker(pieces: WorkerPieces): Promise<void> {
  await Promise.all([pieces.scheduler?.close(), pieces.worker.close()]);
  await pieces.sweeper.stop();
}
