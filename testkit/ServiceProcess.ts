import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './freePort';

/** The service from its TypeScript sources, as the tests run it. */
const MAIN_SOURCE = path.resolve(__dirname, '../src/main.ts');
const START_TIMEOUT_MS = 60_000;
/** How long a clean shutdown may take before a cleanup kills the process. */
export const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_LINES = 30;

export interface ServiceProcessOptions {
  /** Names the process in errors. */
  name: string;
  /** node's arguments: flags such as `--import tsx`, then the script. */
  args: string[];
  /** The process's whole environment; PORT is set here, to a free port. */
  env: NodeJS.ProcessEnv;
  /**
   * When it counts as started: once its HTTP server answers /healthz (it listens, whatever its
   * dependencies say), or once /readyz answers 200 (its dependencies answer too).
   */
  until: '/healthz' | '/readyz';
  /** A given port (to start a server again where it was); a free one by default. */
  port?: number;
}

/** Every process not stopped yet, so that an interrupted run can still stop them all. */
const running = new Set<ServiceProcess>();

/**
 * A server in a process of its own (the service, or the bench's bare verifier): started with
 * `node`, so that its pid is the process whose memory and CPU are read, and so that a test can
 * kill it as a crash would. The tests and the bench share it.
 */
export class ServiceProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitDescription: string | undefined;
  private output: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, args, { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Logs are read (a full pipe would block the server) but only the tail is kept, for error messages.
    this.child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => {
      const ended = (description: string, code: number | null) => {
        this.exitDescription ??= description;
        running.delete(this);
        resolve(code);
      };
      this.child.on('exit', (code, signal) => ended(signal === null ? `exit code ${code}` : `signal ${signal}`, code));
      // Without a pid the process never started, and no 'exit' will follow.
      this.child.on('error', (error) => {
        if (this.child.pid === undefined) ended(`not started: ${error.message}`, null);
      });
    });
    running.add(this);
  }

  /** Starts `node <args>` on a free port and waits until it answers `until`. */
  static async start(options: ServiceProcessOptions): Promise<ServiceProcess> {
    const server = new ServiceProcess(options.name, options.port ?? (await freePort()), options.args, options.env);
    await server.waitFor(options.until);
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Peak resident set size since the process started (VmHWM), in MB. */
  peakRssMb(): number {
    return this.memoryMb('VmHWM');
  }

  /** Resident set size now (VmRSS), in MB. */
  rssMb(): number {
    return this.memoryMb('VmRSS');
  }

  /**
   * CPU time (user + system, all threads: event loop, libuv pool doing the signature checks, GC)
   * the process has used since it started, in seconds. /proc counts in USER_HZ, 100 on Linux.
   */
  cpuSeconds(): number {
    const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  /** Throws if the process is gone: a server that died during a phase invalidates its figures. */
  assertRunning(): void {
    if (this.exitDescription !== undefined) {
      throw new Error(`${this.name} exited (${this.exitDescription}) during the run:\n${this.outputTail()}`);
    }
  }

  /**
   * Sends `signal` and resolves with the exit code (null after a kill by signal). With
   * `killAfterMs`, a process still running after that long is killed with SIGKILL.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<number | null> {
    if (this.exitDescription === undefined) this.child.kill(signal);
    if (killAfterMs !== undefined) {
      // The timer is cancelled once the process has exited, so that it keeps nothing alive.
      const exitedFirst = new AbortController();
      const deadline = sleep(killAfterMs, false, { signal: exitedFirst.signal }).catch(() => true);
      const stopped = await Promise.race([this.exited.then(() => true), deadline]);
      exitedFirst.abort();
      if (!stopped) this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  /** The last lines it wrote, stdout and stderr together. */
  outputTail(): string {
    return this.output.join('\n');
  }

  private memoryMb(field: 'VmHWM' | 'VmRSS'): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (match === null) throw new Error(`no ${field} in /proc/${this.pid}/status`);
    return Number(match[1]) / 1024;
  }

  private async waitFor(endpoint: ServiceProcessOptions['until']): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitDescription !== undefined) {
        throw new Error(`${this.name} exited (${this.exitDescription}) before it started:\n${this.outputTail()}`);
      }
      if ((await statusOf(this.port, endpoint)) === 200) return;
      await sleep(50);
    }
    await this.stop('SIGKILL');
    throw new Error(`${this.name} did not answer ${endpoint} within ${START_TIMEOUT_MS} ms:\n${this.outputTail()}`);
  }

  private keep(chunk: Buffer): void {
    this.output.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    if (this.output.length > OUTPUT_TAIL_LINES) this.output = this.output.slice(-OUTPUT_TAIL_LINES);
  }
}

/**
 * The service from its sources (through tsx), with `environment` on top of this process's, at
 * LOG_LEVEL info and with the metrics on the main port; started once it listens. `preload`:
 * modules loaded first (node --import), e.g. a fault hook.
 */
export function startServiceFromSources(environment: Record<string, string>, preload: string[] = []): Promise<ServiceProcess> {
  return ServiceProcess.start({
    name: 'service',
    args: ['--import', 'tsx', ...preload.flatMap((module) => ['--import', module]), MAIN_SOURCE],
    env: { ...process.env, METRICS_PORT: '0', LOG_LEVEL: 'info', ...environment },
    until: '/healthz',
  });
}

/** Stops every process still running (SIGKILL after STOP_TIMEOUT_MS); for cleanup after an error or an interrupt. */
export async function stopAllServiceProcesses(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop('SIGTERM', STOP_TIMEOUT_MS)));
}

function statusOf(port: number, endpoint: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: endpoint, timeout: 3000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}
