import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

// No Docker engine here: the file's logic is checked as data (merge keys resolved as compose does).
interface ComposeService {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  tmpfs?: string[];
  stop_grace_period?: string;
  restart?: string;
  ports?: string[];
}

const compose = parse(readFileSync(path.resolve(__dirname, '../../compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const { postgres, redis, migrate, api, worker } = compose.services;

describe('compose.yaml', () => {
  test('has postgres, redis, a migrate one-shot, api and worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
  });

  test('Redis keeps acknowledged jobs: append-only file and no eviction', () => {
    const command = (redis.command ?? []).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  test('postgres and redis have healthchecks', () => {
    expect(postgres.healthcheck?.test).toEqual(expect.arrayContaining(['pg_isready']));
    expect(redis.healthcheck?.test).toEqual(expect.arrayContaining(['redis-cli', 'ping']));
  });

  test('migrate runs the compiled migration tool once, after postgres is healthy', () => {
    expect(migrate.command).toEqual(['node', 'dist/tools/migrate.js']);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  test.each([
    ['api', api],
    ['worker', worker],
  ])('%s: same image, its role, no migration at start, waits for migrate and healthy dependencies', (role, service) => {
    expect(service.build).toBe('.');
    expect(service.image).toBe(migrate.image);
    expect(service.command).toBeUndefined(); // the image's CMD
    expect(service.environment).toMatchObject({ ROLE: role, MIGRATE_ON_START: 'false' });
    expect(service.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(service.read_only).toBe(true);
    expect(service.tmpfs).toEqual(['/tmp']);
    // SHUTDOWN_TIMEOUT_MS is 25 s; compose's default grace is 10 s.
    expect(parseInt(service.stop_grace_period ?? '0', 10)).toBeGreaterThanOrEqual(30);
  });

  test('passes the optional tokens through, and publishes metrics on the host loopback only', () => {
    for (const service of [api, worker]) {
      expect(service.environment).toMatchObject({ ADMIN_TOKEN: '${ADMIN_TOKEN:-}', READ_API_TOKEN: '${READ_API_TOKEN:-}' });
    }
    expect(api.ports).toEqual(['3000:3000', '127.0.0.1:9464:9464']);
    expect(worker.ports).toEqual(['127.0.0.1:9465:9464']);
  });
});
