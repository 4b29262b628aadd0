import { EventEmitter, once } from 'node:events';
import { createServer, RequestListener, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** How long a client may take, in milliseconds; see docs/configuration.md (HTTP_*). */
export interface HttpTimeouts {
  /** From the connection (or the end of the previous request) to the end of the headers. */
  headersTimeoutMs: number;
  /** From the start of a request to the end of its body; at least `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (plus Node's one second). */
  keepAliveTimeoutMs: number;
  /** Node checks the headers and request timeouts only this often. */
  timeoutCheckIntervalMs: number;
}

/**
 * A node HTTP server whose close() waits only for requests that the server still has to answer:
 * a client that stalls in the middle of a request, or never sends one, does not hold it open.
 */
export class HttpServer {
  private readonly server: Server;
  /** Responses not yet closed, each with its request. */
  private readonly open = new Set<ServerResponse>();
  private readonly answers = new EventEmitter();

  constructor(listener: RequestListener, timeouts: HttpTimeouts) {
    this.server = createServer({
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeouts.timeoutCheckIntervalMs,
    });
    this.server.on('request', (_request, response: ServerResponse) => {
      this.open.add(response);
      response.once('close', () => {
        this.open.delete(response);
        this.answers.emit('answer');
      });
    });
    this.server.on('request', listener);
  }

  /** Resolves with the port once listening; rejects when it cannot, e.g. with EADDRINUSE. */
  async listen(port: number): Promise<number> {
    this.server.listen(port);
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * Stops accepting connections and closes the idle ones. Once every request received in full has
   * been answered, the connections left are dropped: they carry no request, or one whose client
   * stopped sending it (Node stops checking the timeouts on close).
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    while (this.awaitsAnswer()) await once(this.answers, 'answer');
    this.server.closeAllConnections();
    await closed;
  }

  /** Drops open connections at once. */
  forceClose(): void {
    this.server.closeAllConnections();
  }

  private awaitsAnswer(): boolean {
    return [...this.open].some((response) => response.req.complete);
  }
}
