import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = path.join(__dirname, '../../src/main.ts');
const START_TIMEOUT_MS = 60_000;

/** The service in a process of its own, so that a test can kill it like a crash would. */
export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Sends `signal` and resolves with the exit code (null after a kill by signal). */
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `src/main.ts` with `environment` (on top of this process's) and resolves once it logged
 * that it serves. `preload`: modules loaded first (node --import), e.g. a fault hook.
 */
export async function startServiceProcess(environment: Record<string, string>, preload: string[] = []): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((module) => ['--import', module]), MAIN], {
    env: { ...process.env, PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service process did not start in time')), START_TIMEOUT_MS);
    void exited.then(([code]) => reject(new Error(`the service process exited with ${code} before it started`)));
    // Lines are read to the end, so that a full pipe never blocks the service.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = parseJson(line);
      if (entry?.message === 'service started') {
        clearTimeout(timer);
        resolve(entry.port as number);
      }
    });
  });
  return {
    child,
    baseUrl: `http://127.0.0.1:${port}`,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
