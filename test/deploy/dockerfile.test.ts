import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { renderChart } from '../support/helm';
import { createTestDatabase, TestDatabase } from '../support/testDatabase';
import { deleteRedisKeys, eventually, providerKeys } from '../support/testService';
import {
  copyFromContext,
  copyFromStage,
  contextFiles,
  dockerignoreMatcher,
  execForm,
  Instruction,
  instructionsOf,
  parseCopy,
  parseDockerfile,
  runCommands,
  Stage,
} from './dockerfileModel';

// No Docker engine here: the Dockerfile is read and its stages are replayed in temporary directories,
// each standing for its stage's WORKDIR.

const REPO = path.resolve(__dirname, '../..');
const stages = parseDockerfile(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
const isIgnored = dockerignoreMatcher(readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
const runtime = stages[stages.length - 1];
const last = (stage: Stage, keyword: string): Instruction => {
  const found = instructionsOf(stage, keyword);
  if (found.length === 0) throw new Error(`stage ${stage.name} has no ${keyword}`);
  return found[found.length - 1];
};
const runtimeCommand = execForm(last(runtime, 'CMD').text);
const healthcheck = execForm(last(runtime, 'HEALTHCHECK').text.replace(/^.*?\bCMD\b/, ''));
const composeMigrate = (parse(readFileSync(path.join(REPO, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: { migrate: { command: string[] } };
}).services.migrate.command;

describe('Dockerfile', () => {
  test('both stages build from the same pinned Node 20 slim image', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['build', 'runtime']);
    for (const stage of stages) expect(stage.base).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    expect(new Set(stages.map((stage) => stage.base)).size).toBe(1);
  });

  test('every COPY source of the build context exists and is not excluded by .dockerignore', () => {
    const copies = stages.flatMap((stage) => instructionsOf(stage, 'COPY').map(parseCopy)).filter((copy) => copy.from === undefined);
    expect(copies.length).toBeGreaterThan(0);
    for (const source of copies.flatMap((copy) => copy.sources)) {
      expect([source, existsSync(path.join(REPO, source))]).toEqual([source, true]);
      expect([source, isIgnored(source)]).toEqual([source, false]);
      expect([source, contextFiles(REPO, source, isIgnored).length > 0]).toEqual([source, true]);
    }
  });

  test('COPY --from names an earlier stage', () => {
    stages.forEach((stage, index) => {
      for (const copy of instructionsOf(stage, 'COPY').map(parseCopy)) {
        if (copy.from !== undefined) expect(stages.slice(0, index).map((earlier) => earlier.name)).toContain(copy.from);
      }
    });
  });

  test('.dockerignore keeps local state, secrets and generated code out of the context', () => {
    for (const excluded of ['node_modules/bullmq/package.json', 'dist/main.js', '.local/dev-webhook-key.pem', '.git/HEAD', 'src/generated/prisma/client.ts', 'keys/abc.pem', 'src/abc.pem', '.env', 'test/unit/x.test.ts']) {
      expect([excluded, isIgnored(excluded)]).toEqual([excluded, true]);
    }
    for (const included of ['src/main.ts', 'prisma/schema.prisma', 'prisma/migrations/20261122000000_initial_status_tables/migration.sql', 'package-lock.json']) {
      expect([included, isIgnored(included)]).toEqual([included, false]);
    }
  });

  test('the build stage generates the Prisma client and compiles src/ including the tools', () => {
    expect(instructionsOf(stages[0], 'RUN').flatMap(runCommands)).toContain('npm run build');
    const { scripts } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.build).toContain('prisma:generate');
    expect(scripts['prisma:generate']).toContain('prisma generate');
    const buildConfig = JSON.parse(readFileSync(path.join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(buildConfig.include).toContain('src/**/*.ts');
  });

  test('the runtime stage: production dependencies only, non-root user, tini, a Node healthcheck', () => {
    const commands = instructionsOf(runtime, 'RUN').flatMap(runCommands);
    expect(commands.filter((command) => /^npm ci\b/.test(command))).toEqual([expect.stringContaining('--omit=dev')]);
    expect(commands.some((command) => /apt-get install .*\btini\b/.test(command))).toBe(true);
    expect(instructionsOf(runtime, 'ENV').map((env) => env.text)).toContain('NODE_ENV=production');
    // Numeric and not 0: Kubernetes' runAsNonRoot can only verify a numeric user.
    expect(last(runtime, 'USER').text).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(execForm(last(runtime, 'ENTRYPOINT').text)).toEqual(['/usr/bin/tini', '--']);
    expect(runtimeCommand).toEqual(['node', 'dist/main.js']);
    expect(healthcheck[0]).toBe('node');
    expect(healthcheck.join(' ')).toContain('/healthz');
    expect(composeMigrate).toEqual(['node', 'dist/tools/migrate.js']);
  });
});

describe('Dockerfile stages replayed without Docker', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'upvest-image-'));
  const stageDirs = new Map<string, { dir: string; workdir: string }>();
  const environment: Record<string, string> = {};
  let runtimeDir: string;
  let database: TestDatabase | undefined;
  const redisPrefix = `test-image-${process.pid}-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  let serviceEnvironment: Record<string, string>;

  beforeAll(async () => {
    for (const stage of stages) {
      const dir = path.join(work, stage.name);
      mkdirSync(dir);
      let workdir = '/';
      for (const instruction of stage.instructions) {
        if (instruction.keyword === 'WORKDIR') workdir = instruction.text;
        if (instruction.keyword === 'ENV' && stage === runtime) {
          for (const pair of instruction.text.split(/\s+/)) environment[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
        }
        if (instruction.keyword === 'COPY') {
          // The stage's directory stands for its WORKDIR, so destinations must be relative to it.
          expect(workdir).not.toBe('/');
          const copy = parseCopy(instruction);
          const from = copy.from === undefined ? undefined : stageDirs.get(copy.from);
          if (from) copyFromStage(from.dir, from.workdir, copy, dir);
          else copyFromContext(REPO, copy, dir, isIgnored);
        }
        if (instruction.keyword === 'RUN') {
          for (const command of runCommands(instruction)) replayRun(stage, command, dir);
        }
      }
      stageDirs.set(stage.name, { dir, workdir });
    }
    runtimeDir = path.join(work, runtime.name);

    database = await createTestDatabase();
    // Empty it again: the image's own migration runner must find prisma/migrations in its layout.
    const client = new Client({ connectionString: database.url });
    await client.connect();
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    await client.end();
    // Only what a container would have: the image's ENV and the deployment's settings.
    serviceEnvironment = {
      PATH: process.env.PATH ?? '',
      ...environment,
      DATABASE_URL: database.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: redisPrefix,
      UPVEST_WEBHOOK_JWKS: JSON.stringify(providerKeys.jwks),
    };
  }, 180_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database?.drop();
    await deleteRedisKeys(redisPrefix);
    rmSync(work, { recursive: true, force: true });
  });

  test('the runtime layout has the entry point, the compiled tools, the migrations and no devDependencies', () => {
    expect(existsSync(path.join(runtimeDir, runtimeCommand[1]))).toBe(true);
    expect(existsSync(path.join(runtimeDir, composeMigrate[1]))).toBe(true);
    expect(existsSync(path.join(runtimeDir, 'dist/tools/cli.js'))).toBe(true);
    expect(existsSync(path.join(runtimeDir, 'dist/generated/prisma/client.js'))).toBe(true);
    const migrations = readdirSync(path.join(runtimeDir, 'prisma/migrations'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(migrations.length).toBeGreaterThan(0);
    for (const migration of migrations) expect(existsSync(path.join(runtimeDir, 'prisma/migrations', migration.name, 'migration.sql'))).toBe(true);
    for (const runtimeDependency of ['bullmq', '@prisma/client', '@prisma/adapter-pg', '@bull-board/ui']) {
      expect([runtimeDependency, existsSync(path.join(runtimeDir, 'node_modules', runtimeDependency))]).toEqual([runtimeDependency, true]);
    }
    for (const devOnly of ['jest', 'tsx', 'supertest', 'ts-jest', 'prisma', 'typescript']) expect([devOnly, existsSync(path.join(runtimeDir, 'node_modules', devOnly))]).toEqual([devOnly, false]);
  });

  test('ROLE=api migrates, answers /healthz and /readyz, passes the HEALTHCHECK and exits 0 on SIGTERM', async () => {
    const api = await startImage('api');
    expect(runHealthcheck(api.environment.PORT).status).toBe(0);

    // The metrics are on their own port (the chart's ServiceMonitor target), not on the one the ingress routes to.
    const scrape = await fetch(`http://127.0.0.1:${api.environment.METRICS_PORT}/metrics`);
    expect(scrape.status).toBe(200);
    const exposition = await scrape.text();
    expect(await api.statusOf('/metrics')).toBe(404);
    // Every metric the chart's alerts query is exported (a histogram's series end in _bucket).
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const queried = alertExpressions().flatMap((expr) => [...expr.matchAll(/\b(upvest_[a-z_]+?)(_bucket)?\{/g)].map((match) => match[1]));
    expect(queried.length).toBeGreaterThan(0);
    expect(queried.filter((name) => !exported.has(name))).toEqual([]);

    expect(await api.stop()).toEqual({ code: 0, signal: null });
    expect(runHealthcheck(api.environment.PORT).status).toBe(1);
  }, 60_000);

  test('ROLE=worker gets ready, serves metrics and exits 0 on SIGTERM', async () => {
    const worker = await startImage('worker');
    expect(runHealthcheck(worker.environment.PORT).status).toBe(0);
    expect((await fetch(`http://127.0.0.1:${worker.environment.METRICS_PORT}/metrics`)).status).toBe(200);
    expect(await worker.stop()).toEqual({ code: 0, signal: null });
  }, 60_000);

  test('the migrate command (compose service, Helm hook Job) runs from the runtime layout', () => {
    const result = spawnSync(process.execPath, composeMigrate.slice(1), { cwd: runtimeDir, env: serviceEnvironment, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`migrate exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
    // The service test before has applied them already; run alone, this applies them.
    expect(result.stdout).toMatch(/no pending migrations|applied: /);
  }, 30_000);

  test('the migrate command creates a new database and logs one JSON object per line, as the service does', async () => {
    const url = new URL(serviceEnvironment.DATABASE_URL);
    url.pathname = `/${url.pathname.slice(1)}_migrate`;
    try {
      const result = spawnSync(process.execPath, composeMigrate.slice(1), { cwd: runtimeDir, env: { ...serviceEnvironment, DATABASE_URL: url.toString() }, encoding: 'utf8' });
      expect(result.status).toBe(0);
      const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ level: 'info', message: 'migrations applied', databaseCreated: true, applied: expect.arrayContaining([expect.any(String)]) }),
      ]);
    } finally {
      const client = new Client({ connectionString: serviceEnvironment.DATABASE_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
      await client.end();
    }
  }, 30_000);

  /** Starts the runtime stage's CMD in its layout, as the image would, and waits for /healthz and /readyz. */
  async function startImage(role: string) {
    const environment = { ...serviceEnvironment, ROLE: role, PORT: String(await freePort()), METRICS_PORT: String(await freePort()) };
    const child = spawn(process.execPath, runtimeCommand.slice(1), { cwd: runtimeDir, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const statusOf = async (route: string) => {
      if (child.exitCode !== null) throw new Error(`the ${role} exited with ${child.exitCode}:\n${output}`);
      return fetch(`http://127.0.0.1:${environment.PORT}${route}`).then((response) => response.status, () => 0);
    };
    try {
      await eventually(async () => (await statusOf('/healthz')) === 200, 30_000, `${role} /healthz`);
      await eventually(async () => (await statusOf('/readyz')) === 200, 10_000, `${role} /readyz`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${output}`);
    }
    return {
      environment,
      statusOf,
      async stop() {
        child.kill('SIGTERM');
        const [code, signal] = await exited;
        return { code, signal };
      },
    };
  }

  function runHealthcheck(port: string) {
    expect(healthcheck[0]).toBe('node');
    return spawnSync(process.execPath, healthcheck.slice(1), { env: { PORT: port }, encoding: 'utf8', timeout: 10_000 });
  }
});

function alertExpressions(): string[] {
  const rule = renderChart(['--set', 'prometheusRule.enabled=true']).find((object) => object.kind === 'PrometheusRule');
  return (rule?.spec.groups as Array<{ rules: Array<{ expr: string }> }>).flatMap((group) => group.rules.map((alert) => alert.expr));
}

/** Runs one command of a RUN the way the image build would, or says why it need not. */
function replayRun(stage: Stage, command: string, dir: string): void {
  if (/^npm ci\b/.test(command) && !command.includes('--omit=dev')) {
    // The build stage's full install is the repository's own node_modules (same lock file); installing
    // it a second time would only add a minute to the test.
    symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    return;
  }
  if (/^npm ci\b/.test(command) || command === 'npm run build') {
    const result = spawnSync('sh', ['-c', command], { cwd: dir, encoding: 'utf8', env: process.env });
    if (result.status !== 0) throw new Error(`${stage.name}: "${command}" failed:\n${result.stdout}\n${result.stderr}`);
    return;
  }
  // Image housekeeping that changes nothing the service reads: system packages (tini matters only as PID 1
  // in a container) and npm's download cache. Never run here: they would touch this machine.
  if (/^(apt-get |rm -rf \/var\/lib\/apt\/lists|npm cache clean)/.test(command)) return;
  throw new Error(`${stage.name}: the replay does not know how to run "${command}"; teach replayRun`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
