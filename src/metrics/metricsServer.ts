import { IncomingMessage, ServerResponse } from 'node:http';
import { Logger } from '../logging/logger';
import { HttpServer, HttpTimeouts } from '../shared/HttpServer';
import { MetricsPortUnavailableError } from './errors';
import { MetricsRegistry } from './MetricsRegistry';

export interface MetricsServer {
  port: number;
  /** Stops accepting connections; resolves once an answer being sent is done. */
  close(): Promise<void>;
  /** Drops open connections at once. */
  forceClose(): void;
}

/**
 * Answers a scrape: the registry in the text format. Shared by the metrics server and the main
 * app (METRICS_PORT=0), whose Express response is a ServerResponse too.
 */
export function sendMetrics(metrics: MetricsRegistry, response: ServerResponse, logger: Logger): void {
  metrics.text().then(
    (body) => {
      response.statusCode = 200;
      response.setHeader('Content-Type', metrics.contentType);
      response.setHeader('Cache-Control', 'no-store');
      response.end(body);
    },
    (error) => {
      logger.error('metrics could not be collected', { error: error instanceof Error ? error.message : String(error) });
      response.statusCode = 500;
      response.setHeader('Content-Type', 'text/plain; charset=utf-8');
      response.end('metrics could not be collected\n');
    },
  );
}

/**
 * A small HTTP server of its own for GET <path>, on a port that the ingress does not route to,
 * so that /metrics is never reachable from the internet next to the webhook endpoint.
 */
export async function startMetricsServer(
  metrics: MetricsRegistry,
  options: { port: number; path: string; timeouts: HttpTimeouts },
  logger: Logger,
): Promise<MetricsServer> {
  const server = new HttpServer((request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    if (path !== options.path) {
      respond(response, 404, 'not found\n');
    } else if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      respond(response, 405, 'method not allowed\n');
    } else {
      sendMetrics(metrics, response, logger);
    }
  }, options.timeouts);
  const port = await server.listen(options.port).catch((error: Error) => {
    throw new MetricsPortUnavailableError(options.port, error);
  });
  return {
    port,
    close: () => server.close(),
    forceClose: () => server.forceClose(),
  };
}

function respond(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(text);
}
