import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_TAIL_LINES = 30;

/** Every server process not stopped yet, so that an interrupted run can still stop them all. */
const running = new Set<ServerProcess>();

/**
 * A server under test (the service or the bare verifier) in its own process. It is started as
 * `node <script>` directly, not through npm, so that its pid is the process whose memory is read.
 */
export class ServerProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private exitDescription: string | undefined;
  private output: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Logs are read (a full pipe would block the server) but only the tail is kept, for error messages.
    this.child.stdout?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => {
      const ended = (description: string) => {
        this.exitDescription ??= description;
        running.delete(this);
        resolve();
      };
      this.child.on('exit', (code, signal) => ended(signal === null ? `exit code ${code}` : `signal ${signal}`));
      // Without a pid the process never started, and no 'exit' will follow.
      this.child.on('error', (error) => {
        if (this.child.pid === undefined) ended(`not started: ${error.message}`);
      });
    });
    running.add(this);
  }

  /** Starts `node <args>` with `env` (PORT is set here) and waits until GET /readyz answers 200. */
  static async start(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<ServerProcess> {
    const port = await freePort();
    const server = new ServerProcess(name, port, args, { ...env, PORT: String(port) });
    await server.waitReady();
    return server;
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

  private memoryMb(field: 'VmHWM' | 'VmRSS'): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (match === null) throw new Error(`no ${field} in /proc/${this.pid}/status`);
    return Number(match[1]) / 1024;
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

  /** SIGTERM lets it shut down cleanly; SIGKILL if that takes longer than STOP_TIMEOUT_MS. */
  async stop(): Promise<void> {
    if (this.exitDescription !== undefined) return;
    this.child.kill('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  outputTail(): string {
    return this.output.join('\n');
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitDescription !== undefined) {
        throw new Error(`${this.name} exited (${this.exitDescription}) before it was ready:\n${this.outputTail()}`);
      }
      if ((await readyzStatus(this.port)) === 200) return;
      await sleep(100);
    }
    await this.stop();
    throw new Error(`${this.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${this.outputTail()}`);
  }

  private keep(chunk: Buffer): void {
    this.output.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    if (this.output.length > OUTPUT_TAIL_LINES) this.output = this.output.slice(-OUTPUT_TAIL_LINES);
  }
}

/** Stops every server process still running; for cleanup after an error or an interrupt. */
export async function stopAllServerProcesses(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

function readyzStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/readyz', timeout: 3000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}

/** A port nobody listens on right now; the OS picks it. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
