import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LoadOptions, LoadResult } from './runLoad';
import { readRequestsFile, SignedRequest } from './signedRequests';

/**
 * Child process started by runLoad.ts: replays pre-signed requests over keep-alive connections
 * with a fixed number in flight, and sends the measurements back over IPC. It only replays; all
 * signing happened before, so the measured server is the only place where crypto runs.
 */

interface Answer {
  status: number;
  body: string;
  latencyMs: number;
}

const MAX_FAILURE_SAMPLES = 5;
const WARMUP_MAX_MS = 60_000;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as LoadOptions;
  const requests = readRequestsFile(options.requestsFile);
  const warmup = requests.slice(0, options.warmupRequests);
  const timed = requests.slice(options.warmupRequests, options.warmupRequests + options.maxRequests);
  if (timed.length === 0) throw new Error(`${options.requestsFile} has no requests after the ${warmup.length} warm-up ones`);

  const url = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const failures: string[] = [];
  let failureCount = 0;
  let accepted = 0;
  let answered = 0;
  const check = (answer: Answer) => {
    answered += 1;
    if (answer.status === 200) {
      accepted += acceptedCount(answer.body);
      return;
    }
    failureCount += 1;
    if (failures.length < MAX_FAILURE_SAMPLES) failures.push(`${answer.status || 'no answer'}: ${answer.body.slice(0, 300)}`);
  };

  // Warm-up: lets the server's JIT settle and opens the connections before the clock starts.
  await replay(warmup, url, agent, options.concurrency, performance.now() + WARMUP_MAX_MS, check);

  const latencies: number[] = [];
  const started = performance.now();
  await replay(timed, url, agent, options.concurrency, started + options.maxSeconds * 1000, (answer) => {
    latencies.push(answer.latencyMs);
    check(answer);
  });
  const elapsedMs = performance.now() - started;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  const result: LoadResult = {
    requests: latencies.length,
    answered,
    elapsedMs,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    failures: failureCount,
    failureSamples: failures,
    accepted,
  };
  // Exit explicitly once the result is out: the IPC channel would keep this process alive.
  if (process.send) process.send(result, () => process.exit(0));
  else process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** `concurrency` lanes, each sending its next request when the previous one is answered, until the list or the time is up. */
async function replay(
  requests: SignedRequest[],
  url: URL,
  agent: http.Agent,
  concurrency: number,
  deadline: number,
  onAnswer: (answer: Answer) => void,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < requests.length && performance.now() < deadline) {
      const request = requests[next];
      next += 1;
      onAnswer(await send(request, url, agent));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Latency is from handing the request to the socket pool until the last byte of the answer. */
function send(request: SignedRequest, url: URL, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const started = performance.now();
    const outgoing = http.request(url, { method: 'POST', agent, headers: request.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), latencyMs: performance.now() - started }),
      );
      response.on('error', (error) => resolve({ status: 0, body: error.message, latencyMs: performance.now() - started }));
    });
    outgoing.on('error', (error) => resolve({ status: 0, body: error.message, latencyMs: performance.now() - started }));
    outgoing.end(request.body);
  });
}

function acceptedCount(body: string): number {
  try {
    const parsed = JSON.parse(body) as { accepted?: unknown };
    return typeof parsed.accepted === 'number' ? parsed.accepted : 0;
  } catch {
    return 0;
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

// Without the orchestrator nobody reads the result: stop instead of loading a server for nothing.
process.on('disconnect', () => process.exit(1));

main().catch((error) => {
  process.stderr.write(`load generator: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
