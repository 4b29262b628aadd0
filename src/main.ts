import './runtime/threadPoolSize';
import './runtime/v8Settings';
import { loadConfig } from './config/config';
import { ConfigError } from './config/errors';
import { createLogger } from './logging/logger';
import { startService } from './wiring/startService';
import { startTracing } from './tracing/tracing';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const tracing = await startTracing();
  if (tracing !== undefined) logger.info('tracing on: spans are exported over OTLP');
  const service = await startService(config, logger);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    const deadline = setTimeout(() => {
      logger.error('shutdown timed out, exiting with work still open');
      service.forceClose();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    service
      .close()
      // The spans of the last deliveries are exported before the process exits; a collector that is away does not fail the shutdown.
      .then(() => tracing?.shutdown().catch((error) => logger.warn('trace export at shutdown failed', { error: String(error) })))
      .then(
        () => {
          clearTimeout(deadline);
          process.exit(0);
        },
        (error) => {
          logger.error('shutdown failed', { error: String(error) });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
