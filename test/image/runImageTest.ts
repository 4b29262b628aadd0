import { ChildProcess, spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, providerKeys, signedHeaders } from '../support/testService';

// `npm run test:image`: builds the unchanged Dockerfile with a Docker engine of its own and runs the image as
// migrate, api and worker with the chart's pod settings against the host's Postgres and Redis. No image registry
// is reachable here, so the Dockerfile's base image is a stand-in built from Debian and this machine's Node.js,
// imported under the FROM tag and kept in the engine's data root between runs. Run as root.

const REPO = path.resolve(__dirname, '../..');
const ROOT = process.env.IMAGE_TEST_ROOT ?? '/var/lib/upvest-image-test';
const HOST = `unix://${ROOT}/docker.sock`;
// Debian's client, of the same version as its dockerd.
const DOCKER = '/usr/bin/docker';
const RUN = `upvest-image-test-${process.pid}`;
const IMAGE = `upvest-webhook-receiver:${RUN}`;
// The chart's pod settings: read-only root filesystem, non-root, no capabilities, no privilege escalation.
const POD_SETTINGS = ['--network', 'host', '--read-only', '--tmpfs', '/tmp', '--user', '1000:1000', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
// Docker's default grace of 10 s is shorter than SHUTDOWN_TIMEOUT_MS (25 s): like compose.yaml's stop_grace_period
// and the chart's terminationGracePeriodSeconds, the containers get that plus a margin.
const STOP_TIMEOUT_SECONDS = 30;

const timings: string[] = [];

async function timed<T>(step: string, action: () => T | Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await action();
  timings.push(`${step} ${((Date.now() - start) / 1000).toFixed(0)} s`);
  return result;
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${String(result.stderr ?? '').slice(-4000)}`);
  }
  return String(result.stdout ?? '');
}

const docker = (...args: string[]) => run(DOCKER, ['-H', HOST, ...args]);
const dockerSucceeds = (...args: string[]) => spawnSync(DOCKER, ['-H', HOST, ...args], { stdio: 'ignore' }).status === 0;

/** Debian's docker.io and debootstrap, installed like .ci/run installs Chromium. */
function installTools(): void {
  if ([DOCKER, '/usr/sbin/dockerd', '/usr/sbin/debootstrap'].every((file) => existsSync(file))) return;
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'docker.io', 'debootstrap'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** A dockerd of this test's own (its socket, state and pidfile under ROOT), or why it cannot start. */
async function startEngine(): Promise<ChildProcess | string> {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    installTools();
  } catch (error) {
    return `docker.io or debootstrap cannot be installed (${(error as Error).message.split('\n')[0]})`;
  }
  mkdirSync(ROOT, { recursive: true });
  stopLeftoverEngine();
  const log = openSync(path.join(ROOT, 'dockerd.log'), 'w');
  const engine = spawn(
    '/usr/sbin/dockerd',
    ['--iptables=false', '--bridge=none', `--data-root=${ROOT}/data`, `--exec-root=${ROOT}/exec`, `--pidfile=${ROOT}/dockerd.pid`, `-H`, HOST],
    { stdio: ['ignore', log, log] },
  );
  try {
    await eventually(async () => engine.exitCode !== null || dockerSucceeds('version'), 60_000, 'dockerd');
  } catch {
    engine.kill('SIGTERM');
    return 'dockerd did not answer within 60 s';
  }
  if (engine.exitCode !== null) {
    const lastLine = readFileSync(path.join(ROOT, 'dockerd.log'), 'utf8').trim().split('\n').pop();
    return `dockerd exited with ${engine.exitCode}: ${lastLine}`;
  }
  return engine;
}

/** This test's own daemon, left running by an interrupted run, would refuse a new one on the same pidfile. */
function stopLeftoverEngine(): void {
  const pidfile = path.join(ROOT, 'dockerd.pid');
  if (!existsSync(pidfile)) return;
  const pid = Number(readFileSync(pidfile, 'utf8'));
  if (!existsSync(`/proc/${pid}`) || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(HOST)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; existsSync(`/proc/${pid}`) && waited < 30_000; waited += 100) spawnSync('sleep', ['0.1']);
}

async function stopEngine(engine: ChildProcess): Promise<void> {
  if (engine.exitCode !== null) return;
  const exited = new Promise((resolve) => engine.once('exit', resolve));
  engine.kill('SIGTERM');
  await exited;
}

/**
 * The stand-in for the FROM image: Debian bookworm (minbase), this machine's node and npm where the official image
 * has them, a `node` user and group with id 1000, and the host's CA bundle for npm (the registry may be reached
 * through a TLS-inspecting proxy). Built once; the engine's data root keeps it.
 */
function buildBaseImage(tag: string): void {
  const version = /^node:(\d+\.\d+\.\d+)-/.exec(tag)?.[1];
  if (`v${version}` !== process.version) console.log(`note: the stand-in for ${tag} carries this machine's Node.js ${process.version}`);
  const rootfs = path.join(ROOT, 'rootfs');
  rmSync(rootfs, { recursive: true, force: true });
  run('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian']);
  rmSync(path.join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(path.join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });

  cpSync(process.execPath, path.join(rootfs, 'usr/local/bin/node'));
  const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).trim());
  cpSync(path.resolve(npmCli, '../..'), path.join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
  for (const tool of ['npm', 'npx']) symlinkSync(`../lib/node_modules/npm/bin/${tool}-cli.js`, path.join(rootfs, 'usr/local/bin', tool));
  run('chroot', [rootfs, 'groupadd', '--gid', '1000', 'node']);
  run('chroot', [rootfs, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);

  mkdirSync(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
  cpSync('/etc/ssl/certs/ca-certificates.crt', path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
  mkdirSync(path.join(rootfs, 'usr/local/etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'usr/local/etc/npmrc'), 'cafile=/etc/ssl/certs/ca-certificates.crt\n');

  run('bash', ['-o', 'pipefail', '-c', 'tar -C "$1" -c . | "$2" -H "$3" import --change \'CMD ["node"]\' - "$4"', 'import', rootfs, DOCKER, HOST, tag]);
  rmSync(rootfs, { recursive: true, force: true });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .trim()
    .split('\n')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

interface Container {
  name: string;
  port: number;
}

async function startContainer(role: string, environment: string[]): Promise<Container> {
  const name = `${RUN}-${role}`;
  const port = await freePort();
  const metricsPort = await freePort();
  docker('run', '-d', '--name', name, ...POD_SETTINGS, '--stop-timeout', String(STOP_TIMEOUT_SECONDS), ...environment, '-e', `ROLE=${role}`, '-e', `PORT=${port}`, '-e', `METRICS_PORT=${metricsPort}`, IMAGE);
  return { name, port };
}

async function waitReady(container: Container): Promise<void> {
  await eventually(
    async () => {
      check(docker('inspect', '-f', '{{.State.Running}}', container.name).trim() === 'true', `${container.name} exited:\n${docker('logs', container.name)}`);
      return (await fetch(`http://127.0.0.1:${container.port}/readyz`).catch(() => undefined))?.status === 200;
    },
    120_000,
    `${container.name} ready`,
  );
}

/** `docker stop` within the grace period: exit code 0 (not 137, a SIGKILL), and nothing but JSON lines logged. */
async function stopCleanly(container: Container): Promise<void> {
  const start = Date.now();
  docker('stop', container.name);
  const seconds = (Date.now() - start) / 1000;
  const exitCode = docker('inspect', '-f', '{{.State.ExitCode}}', container.name).trim();
  const logs = spawnSync(DOCKER, ['-H', HOST, 'logs', container.name], { encoding: 'utf8' });
  check(exitCode === '0', `${container.name} exited with ${exitCode} after docker stop (${seconds.toFixed(1)} s):\n${logs.stdout}${logs.stderr}`);
  check(logs.stderr === '', `${container.name} wrote to stderr:\n${logs.stderr}`);
  check(jsonLines(logs.stdout).some((line) => line.message === 'service stopped'), `${container.name} did not log its shutdown`);
  timings.push(`docker stop ${container.name.slice(RUN.length + 1)} ${seconds.toFixed(1)} s`);
}

async function testImage(): Promise<void> {
  const tag = /^FROM\s+(\S+)/m.exec(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'))?.[1];
  if (tag === undefined) throw new Error('the Dockerfile has no FROM');
  if (dockerSucceeds('image', 'inspect', tag)) timings.push('base image cached');
  else await timed('base image', () => buildBaseImage(tag));

  // The legacy builder: BuildKit would fetch its frontend and metadata from a registry. Unchanged, from the repository.
  const buildLog = path.join(ROOT, 'build.log');
  await timed('docker build', () => {
    const log = openSync(buildLog, 'w');
    const build = spawnSync(DOCKER, ['-H', HOST, 'build', '--network', 'host', '-t', IMAGE, REPO], { stdio: ['ignore', log, log], env: { ...process.env, DOCKER_BUILDKIT: '0' } });
    check(build.status === 0, `docker build failed:\n${readFileSync(buildLog, 'utf8').slice(-4000)}`);
  });

  const database: TestDatabase = await createTestDatabase([]);
  const redisPrefix = `${RUN}-${randomBytes(4).toString('hex')}`;
  const environment = [
    ['DATABASE_URL', database.url],
    ['REDIS_URL', 'redis://127.0.0.1:6379'],
    ['REDIS_PREFIX', redisPrefix],
    ['UPVEST_WEBHOOK_JWKS', JSON.stringify(providerKeys.jwks)],
    ['MIGRATE_ON_START', 'false'],
  ].flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  try {
    await timed('containers', async () => {
      const migrate = jsonLines(docker('run', '--rm', ...POD_SETTINGS, ...environment, IMAGE, 'node', 'dist/tools/migrate.js'));
      check(migrate.length === 1 && migrate[0].message === 'migrations applied', `migrate logged ${JSON.stringify(migrate)}`);

      // libuv's thread pool follows the container's CPU limit (src/runtime/threadPoolSize.ts), not the machine's cores.
      const threadPool = docker('run', '--rm', ...POD_SETTINGS, '--cpus', '1', IMAGE, 'node', '-e', "require('./dist/runtime/threadPoolSize'); console.log(process.env.UV_THREADPOOL_SIZE)");
      check(threadPool.trim() === '1', `UV_THREADPOOL_SIZE is ${threadPool.trim()} under a limit of one CPU`);

      const api = await startContainer('api', environment);
      const worker = await startContainer('worker', environment);
      await Promise.all([waitReady(api), waitReady(worker)]);

      const body = readFileSync(path.join(REPO, 'examples/withdrawal-batch.json'), 'utf8');
      const answer = await fetch(`http://127.0.0.1:${api.port}/webhooks/upvest`, { method: 'POST', headers: signedHeaders(body), body });
      check(answer.status === 200, `the delivery was answered ${answer.status}: ${await answer.text()}`);
      const client = new Client({ connectionString: database.url });
      await client.connect();
      try {
        const withdrawal = await eventually(async () => {
          const projected = await client.query('SELECT count(*)::int AS n FROM webhook_events WHERE processed_at IS NOT NULL');
          const rows = await client.query("SELECT status FROM withdrawals WHERE id = '6ffa6b16-2380-4e7a-88b2-ae625c8eef99'");
          return projected.rows[0].n === 3 && rows.rows[0];
        }, 60_000, 'the batch projected by the worker container');
        check(withdrawal.status === 'PROCESSING', `the withdrawal is ${withdrawal.status}`);
      } finally {
        await client.end();
      }

      // The image's HEALTHCHECK (its first run is one interval, 15 s, after the start).
      await eventually(async () => docker('inspect', '-f', '{{.State.Health.Status}}', api.name).trim() === 'healthy', 90_000, 'a healthy api container');
      await stopCleanly(api);
      await stopCleanly(worker);
    });
  } finally {
    await database.drop();
    await deleteRedisKeys(redisPrefix);
  }
}

async function main(): Promise<number> {
  const start = Date.now();
  const engine = await startEngine();
  if (typeof engine === 'string') {
    console.log(`image test skipped: no Docker engine here (${engine})`);
    return 0;
  }
  try {
    await testImage();
    console.log(`image test passed in ${((Date.now() - start) / 1000).toFixed(0)} s: ${timings.join(', ')}`);
    return 0;
  } catch (error) {
    console.error(`image test failed: ${(error as Error).message}`);
    return 1;
  } finally {
    // The run's containers and images go; the base image stays in the data root for the next run.
    for (const role of ['api', 'worker']) spawnSync(DOCKER, ['-H', HOST, 'rm', '-f', `${RUN}-${role}`], { stdio: 'ignore' });
    spawnSync(DOCKER, ['-H', HOST, 'rmi', '-f', IMAGE], { stdio: 'ignore' });
    spawnSync(DOCKER, ['-H', HOST, 'image', 'prune', '-f'], { stdio: 'ignore' });
    await stopEngine(engine);
  }
}

main().then((code) => process.exit(code));
