import { fork } from 'node:child_process';
import path from 'node:path';

export interface LoadOptions {
  /** Where to POST, e.g. http://127.0.0.1:4000/webhooks/upvest. */
  url: string;
  /** Pre-signed requests, see signedRequests.ts: the warm-up ones first, then the timed ones. */
  requestsFile: string;
  warmupRequests: number;
  /** Keep-alive connections, each with one request in flight at a time. */
  concurrency: number;
  /** The timed phase ends after this many requests or `maxSeconds`, whichever comes first. */
  maxRequests: number;
  maxSeconds: number;
}

export interface LoadResult {
  /** Requests answered in the timed phase. */
  requests: number;
  /** Requests answered in all, warm-up included. */
  answered: number;
  elapsedMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers that were not 200, warm-up included, and transport errors. */
  failures: number;
  /** A few of those failures, for the report. */
  failureSamples: string[];
  /** Sum of the `accepted` counts in the 200 answers (the service reports them; the bare server does not). */
  accepted: number;
}

/**
 * Runs loadGenerator.ts in its own process, so that generating load does not take CPU from the
 * server being measured inside one event loop. fork() passes on process.execArgv, which carries
 * tsx's loader when the bench runs under tsx, so the child can be TypeScript too.
 */
export function runLoadGenerator(options: LoadOptions, signal: AbortSignal): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'loadGenerator.ts'), [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // On an interrupt the load must stop first: a server keeps serving busy keep-alive
      // connections after server.close(), so it could not shut down while they are loaded.
      signal,
    });
    let result: LoadResult | undefined;
    child.on('message', (message) => {
      result = message as LoadResult;
    });
    child.on('error', reject);
    // 'close' comes after the IPC channel closed, so a result sent before exiting has arrived.
    child.on('close', (code, signal) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`load generator exited without a result (code ${code}, signal ${signal})`));
    });
  });
}
