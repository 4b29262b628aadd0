import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/errors';
import { generateKeyPair, type KeyPair } from '../../src/signature';

/** The problems of the ConfigError that loading `env` throws; fails the test when it does not throw one. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

/** The variables named in the first column of the tables of docs/configuration.md. */
function documentedVariables(): string[] {
  const reference = readFileSync(path.join(__dirname, '../../docs/configuration.md'), 'utf8');
  const variables: string[] = [];
  let inTable = false;
  for (const line of reference.split('\n')) {
    if (line.startsWith('| variable |')) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    else if (inTable) variables.push(...Array.from(line.split('|')[1].matchAll(/`([A-Z0-9_]+)`/g), (match) => match[1]));
  }
  return variables;
}

describe('loadConfig', () => {
  let keyPair: KeyPair;
  let directory: string;

  beforeAll(() => {
    keyPair = generateKeyPair('p521');
    directory = mkdtempSync(path.join(tmpdir(), 'config-test-'));
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function writeTempFile(name: string, content: string): string {
    const file = path.join(directory, name);
    writeFileSync(file, content);
    return file;
  }

  describe('defaults', () => {
    it('gives the documented defaults for an empty environment', () => {
      const config = loadConfig({});

      expect(config.environment).toBe('development');
      expect(config.role).toBe('all');
      expect(config.port).toBe(3000);
      expect(config.logLevel).toBe('info');
      expect(config.database).toEqual({ url: 'postgresql://postgres@127.0.0.1:5432/upvest_webhooks', poolSize: 10, migrateOnStart: true });
      expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'upvest-webhooks' });
      expect(config.webhook).toEqual({
        path: '/webhooks/upvest',
        publicUrl: undefined,
        bodyLimitBytes: 5 * 1024 * 1024,
        verificationKeys: undefined,
        keyRefreshIntervalMs: 3600 * 1000,
        keyMinRefreshIntervalMs: 30 * 1000,
      });
      expect(config.upvestApi).toBeUndefined();
      expect(config.reconciliation).toEqual({ intervalMs: 600 * 1000, staleAfterSeconds: 3600, maxPaymentsPerRun: 500 });
      expect(config.signature).toEqual({ baseFormat: 'v6', clockSkewSeconds: 60, maxAgeSeconds: 0, enforceExpires: false });
      expect(config.ingest).toEqual({ timeoutMs: 2000, retryAfterSeconds: 5 });
      expect(config.inbox).toEqual({ sweepIntervalMs: 30 * 1000, sweepAfterSeconds: 60 });
      expect(config.worker).toEqual({
        concurrency: 50,
        batchSize: 500,
        batchWaitMs: 10,
        attempts: 50,
        backoffMs: 1000,
        backoffMaxMs: 300000,
        lockDurationMs: 30000,
      });
      expect(config.shutdownTimeoutMs).toBe(25000);
      expect(config.http).toEqual({ headersTimeoutMs: 60000, requestTimeoutMs: 120000, keepAliveTimeoutMs: 65000, timeoutCheckIntervalMs: 5000 });
    });

    it('keeps idle keep-alive connections open longer than an ingress (nginx, AWS ALB: 60 s) does', () => {
      expect(loadConfig({}).http.keepAliveTimeoutMs).toBeGreaterThan(60000);
    });

    it('closes a connection that sends nothing within 70 s', () => {
      const { headersTimeoutMs, timeoutCheckIntervalMs } = loadConfig({}).http;
      expect(headersTimeoutMs + timeoutCheckIntervalMs).toBeLessThanOrEqual(70000);
    });

    it('allows a body limit comfortably above the provider maximum package size of 1 MiB', () => {
      expect(loadConfig({}).webhook.bodyLimitBytes).toBeGreaterThan(1024 * 1024);
    });

    it('treats empty and undefined variables as unset', () => {
      const config = loadConfig({ PORT: '', ROLE: undefined, REDIS_URL: '', UPVEST_WEBHOOK_JWKS: '' });
      expect(config.port).toBe(3000);
      expect(config.role).toBe('all');
      expect(config.redis.url).toBe('redis://127.0.0.1:6379');
      expect(config.webhook.verificationKeys).toBeUndefined();
    });

    it('ignores variables it does not know', () => {
      expect(() => loadConfig({ PATH: '/usr/bin', HOME: '/root', SOMETHING_ELSE: 'x' })).not.toThrow();
    });
  });

  describe('explicit values', () => {
    it('reads numbers, roles, URLs and flags', () => {
      const config = loadConfig({
        PORT: '8080',
        ROLE: 'worker',
        DATABASE_URL: 'postgres://user:secret@db:5432/payments',
        REDIS_URL: 'rediss://cache:6380',
        MIGRATE_ON_START: '0',
        SIGNATURE_ENFORCE_EXPIRES: 'true',
        SIGNATURE_BASE_FORMAT: 'v15',
        SIGNATURE_MAX_AGE_SECONDS: '300',
        WEBHOOK_BODY_LIMIT_BYTES: '2097152',
        PROJECTION_BATCH_SIZE: '50',
        HTTP_HEADERS_TIMEOUT_MS: '10000',
        HTTP_REQUEST_TIMEOUT_MS: '300000',
        HTTP_KEEP_ALIVE_TIMEOUT_MS: '90000',
        HTTP_TIMEOUT_CHECK_INTERVAL_MS: '1000',
      });

      expect(config.port).toBe(8080);
      expect(config.role).toBe('worker');
      expect(config.database.url).toBe('postgres://user:secret@db:5432/payments');
      expect(config.database.migrateOnStart).toBe(false);
      expect(config.redis.url).toBe('rediss://cache:6380');
      expect(config.signature).toMatchObject({ baseFormat: 'v15', maxAgeSeconds: 300, enforceExpires: true });
      expect(config.webhook.bodyLimitBytes).toBe(2097152);
      expect(config.worker.batchSize).toBe(50);
      expect(config.http).toEqual({ headersTimeoutMs: 10000, requestTimeoutMs: 300000, keepAliveTimeoutMs: 90000, timeoutCheckIntervalMs: 1000 });
    });

    it.each(['all', 'api', 'worker'])('accepts ROLE=%s', (role) => {
      expect(loadConfig({ ROLE: role }).role).toBe(role);
    });

    it('parses WEBHOOK_PUBLIC_URL into a URL', () => {
      const { publicUrl } = loadConfig({ WEBHOOK_PUBLIC_URL: 'https://hooks.example.com:8443/upvest/webhooks?x=1' }).webhook;
      expect(publicUrl).toBeInstanceOf(URL);
      expect(publicUrl?.protocol).toBe('https:');
      expect(publicUrl?.host).toBe('hooks.example.com:8443');
      expect(publicUrl?.pathname).toBe('/upvest/webhooks');
    });
  });

  describe('invalid values', () => {
    it('names every invalid variable in one ConfigError', () => {
      const problems = problemsOf({ PORT: 'abc', ROLE: 'x', REDIS_URL: 'http://x' });
      expect(problems).toHaveLength(3);
      expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['PORT', 'REDIS_URL', 'ROLE']);
    });

    it('throws a ConfigError whose message lists every problem', () => {
      let thrown: unknown;
      try {
        loadConfig({ PORT: 'abc', ROLE: 'x' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(thrown).toBeInstanceOf(Error);
      const error = thrown as ConfigError;
      expect(error.name).toBe('ConfigError');
      expect(error.message).toMatch(/^Invalid configuration:\n/);
      for (const problem of error.problems) expect(error.message).toContain(`  - ${problem}`);
    });

    it.each([
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['ROLE', 'ALL'],
      ['LOG_LEVEL', 'trace'],
      ['DATABASE_URL', 'mysql://db/payments'],
      ['DATABASE_URL', 'not a url'],
      ['DATABASE_POOL_SIZE', '0'],
      ['MIGRATE_ON_START', 'yes'],
      ['REDIS_URL', 'http://x'],
      ['WEBHOOK_PATH', 'webhooks/upvest'],
      ['WEBHOOK_PUBLIC_URL', 'ftp://hooks.example.com/upvest'],
      ['WEBHOOK_PUBLIC_URL', 'hooks.example.com/upvest'],
      ['WEBHOOK_BODY_LIMIT_BYTES', '100'],
      ['SIGNATURE_BASE_FORMAT', 'v7'],
      ['SIGNATURE_CLOCK_SKEW_SECONDS', '-5'],
      ['INGEST_TIMEOUT_MS', '10'],
      ['INBOX_SWEEP_INTERVAL_SECONDS', '0'],
      ['INBOX_SWEEP_AFTER_SECONDS', 'soon'],
      ['PROJECTION_BATCH_SIZE', '0'],
      ['UPVEST_BASE_URL', 'ftp://sandbox.upvest.co'],
      ['UPVEST_BASE_URL', 'sandbox.upvest.co'],
      ['UPVEST_API_TIMEOUT_MS', '50'],
      ['UPVEST_API_MAX_RETRIES', '-1'],
      ['UPVEST_API_REQUESTS_PER_SECOND', '0'],
      ['VERIFY_KEYS_REFRESH_INTERVAL_SECONDS', '5'],
      ['RECONCILIATION_INTERVAL_SECONDS', '-1'],
      ['RECONCILIATION_MAX_PAYMENTS_PER_RUN', '0'],
      ['HTTP_HEADERS_TIMEOUT_MS', '0'],
      ['HTTP_REQUEST_TIMEOUT_MS', '999'],
      ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
      ['HTTP_TIMEOUT_CHECK_INTERVAL_MS', '50'],
    ])('rejects %s=%s and names the variable', (variable, value) => {
      const problems = problemsOf({ [variable]: value });
      expect(problems).toHaveLength(1);
      expect(problems[0].startsWith(`${variable}: `)).toBe(true);
    });

    it('rejects a maximum back-off below the base back-off', () => {
      expect(problemsOf({ JOB_BACKOFF_MS: '5000', JOB_BACKOFF_MAX_MS: '1000' })).toEqual([
        'JOB_BACKOFF_MAX_MS: must not be smaller than JOB_BACKOFF_MS',
      ]);
    });

    it('rejects a headers timeout above the request timeout, which Node refuses', () => {
      expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_REQUEST_TIMEOUT_MS: '30000' })).toEqual([
        'HTTP_HEADERS_TIMEOUT_MS: must not be larger than HTTP_REQUEST_TIMEOUT_MS',
      ]);
    });

    it('rejects metrics on the main port at the webhook path, and allows that path on their own port', () => {
      expect(problemsOf({ METRICS_PORT: '0', METRICS_PATH: '/webhooks/upvest' })).toEqual([
        'METRICS_PATH: must differ from WEBHOOK_PATH (/webhooks/upvest) when the metrics are served on the main port (METRICS_PORT=0)',
      ]);
      expect(loadConfig({ METRICS_PATH: '/webhooks/upvest' }).metrics.path).toBe('/webhooks/upvest');
    });
  });

  describe('verification keys (JWKS)', () => {
    it('reads an inline JWKS', () => {
      const keys = loadConfig({ UPVEST_WEBHOOK_JWKS: JSON.stringify(keyPair.jwks) }).webhook.verificationKeys;
      expect(keys?.kids).toEqual([keyPair.kid]);
      expect(keys?.get(keyPair.kid)?.algorithm).toBe('ecdsa-p521-sha512');
    });

    it('reads a JWKS from a file', () => {
      const file = writeTempFile('jwks.json', JSON.stringify(keyPair.jwks));
      const keys = loadConfig({ UPVEST_WEBHOOK_JWKS_FILE: file }).webhook.verificationKeys;
      expect(keys?.kids).toEqual([keyPair.kid]);
    });

    it('refuses both an inline JWKS and a JWKS file', () => {
      const file = writeTempFile('both.json', JSON.stringify(keyPair.jwks));
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS: JSON.stringify(keyPair.jwks), UPVEST_WEBHOOK_JWKS_FILE: file })).toEqual([
        'UPVEST_WEBHOOK_JWKS and UPVEST_WEBHOOK_JWKS_FILE: set only one of them',
      ]);
    });

    it('names UPVEST_WEBHOOK_JWKS when the inline JWKS is not JSON', () => {
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS: '{"keys": [' })).toEqual(['UPVEST_WEBHOOK_JWKS: not valid JSON']);
    });

    it('names UPVEST_WEBHOOK_JWKS_FILE when the file is not JSON', () => {
      const file = writeTempFile('broken.json', 'keys: []');
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS_FILE: file })).toEqual(['UPVEST_WEBHOOK_JWKS_FILE: not valid JSON']);
    });

    it('names UPVEST_WEBHOOK_JWKS_FILE when the file cannot be read', () => {
      const missing = path.join(directory, 'missing.json');
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS_FILE: missing })).toEqual([`UPVEST_WEBHOOK_JWKS_FILE: cannot read ${missing} (ENOENT)`]);
    });

    it('names the variable when the JWKS holds a key of an unsupported type', () => {
      const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const jwks = JSON.stringify({ keys: [{ kid: 'k1', ...publicKey.export({ format: 'jwk' }) }] });

      const [inlineProblem] = problemsOf({ UPVEST_WEBHOOK_JWKS: jwks });
      expect(inlineProblem).toMatch(/^UPVEST_WEBHOOK_JWKS: JWKS key "k1" is unusable: unsupported key type secp256k1/);

      const [fileProblem] = problemsOf({ UPVEST_WEBHOOK_JWKS_FILE: writeTempFile('secp256k1.json', jwks) });
      expect(fileProblem).toMatch(/^UPVEST_WEBHOOK_JWKS_FILE: JWKS key "k1" is unusable/);
    });

    it('names the variable when the JSON is not a JWKS', () => {
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS: '{"keys":[]}' })).toEqual(['UPVEST_WEBHOOK_JWKS: JWKS contains no keys']);
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS: '[]' })).toEqual(['UPVEST_WEBHOOK_JWKS: JWKS must be an object with a "keys" array']);
    });

    it('requires a JWKS or API credentials when NODE_ENV=production', () => {
      expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
        'UPVEST_WEBHOOK_JWKS or UPVEST_WEBHOOK_JWKS_FILE, or the UPVEST_CLIENT_* API credentials: required when NODE_ENV=production',
      ]);
    });

    it('starts in production with a JWKS', () => {
      const config = loadConfig({ NODE_ENV: 'production', UPVEST_WEBHOOK_JWKS: JSON.stringify(keyPair.jwks) });
      expect(config.environment).toBe('production');
      expect(config.webhook.verificationKeys?.kids).toEqual([keyPair.kid]);
    });

    it('reports a broken JWKS in production once, not also as missing', () => {
      expect(problemsOf({ NODE_ENV: 'production', UPVEST_WEBHOOK_JWKS: 'x' })).toEqual(['UPVEST_WEBHOOK_JWKS: not valid JSON']);
    });

    it('reports a JWKS problem together with a back-off problem', () => {
      expect(problemsOf({ UPVEST_WEBHOOK_JWKS: 'x', JOB_BACKOFF_MS: '5000', JOB_BACKOFF_MAX_MS: '1000' })).toEqual([
        'UPVEST_WEBHOOK_JWKS: not valid JSON',
        'JOB_BACKOFF_MAX_MS: must not be smaller than JOB_BACKOFF_MS',
      ]);
    });
  });

  describe('Upvest API credentials', () => {
    const CLIENT_SECRET = 'client-secret-never-echoed';
    const credentials = (overrides: Record<string, string> = {}): Record<string, string> => ({
      UPVEST_CLIENT_ID: '363f3305-7ab0-4e82-a158-f9d382ad08b6',
      UPVEST_CLIENT_SECRET: CLIENT_SECRET,
      UPVEST_SIGNING_KEY: keyPair.privateKeyPem,
      UPVEST_SIGNING_KEY_ID: keyPair.kid,
      ...overrides,
    });
    /** A problem must name the variable but never carry key material or the secret. */
    const expectNoSecrets = (problems: string[], ...secrets: string[]) => {
      for (const secret of [CLIENT_SECRET, ...secrets]) expect(problems.join('\n')).not.toContain(secret);
    };

    it('reads the credentials with the documented defaults', () => {
      const api = loadConfig(credentials()).upvestApi;

      expect(api).toEqual({
        baseUrl: new URL('https://sandbox.upvest.co'),
        clientId: '363f3305-7ab0-4e82-a158-f9d382ad08b6',
        clientSecret: CLIENT_SECRET,
        signingKey: { kid: keyPair.kid, privateKey: expect.any(crypto.KeyObject) },
        timeoutMs: 10000,
        maxRetries: 5,
        retryBaseDelayMs: 500,
        retryMaxDelayMs: 30000,
        requestsPerSecond: 10,
      });
      expect(api?.signingKey.privateKey.asymmetricKeyDetails?.namedCurve).toBe('secp521r1');
    });

    it('reads explicit API, key refresh and reconciliation settings', () => {
      const config = loadConfig(
        credentials({
          UPVEST_BASE_URL: 'https://api.upvest.co',
          UPVEST_API_TIMEOUT_MS: '2500',
          UPVEST_API_MAX_RETRIES: '0',
          UPVEST_API_RETRY_BASE_MS: '100',
          UPVEST_API_RETRY_MAX_MS: '1000',
          UPVEST_API_REQUESTS_PER_SECOND: '2.5',
          VERIFY_KEYS_REFRESH_INTERVAL_SECONDS: '600',
          VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS: '0',
          RECONCILIATION_INTERVAL_SECONDS: '0',
          RECONCILIATION_STALE_AFTER_SECONDS: '60',
          RECONCILIATION_MAX_PAYMENTS_PER_RUN: '20',
        }),
      );

      expect(config.upvestApi).toMatchObject({
        baseUrl: new URL('https://api.upvest.co'),
        timeoutMs: 2500,
        maxRetries: 0,
        retryBaseDelayMs: 100,
        retryMaxDelayMs: 1000,
        requestsPerSecond: 2.5,
      });
      expect(config.webhook).toMatchObject({ keyRefreshIntervalMs: 600_000, keyMinRefreshIntervalMs: 0 });
      expect(config.reconciliation).toEqual({ intervalMs: 0, staleAfterSeconds: 60, maxPaymentsPerRun: 20 });
    });

    it('accepts an Ed25519 signing key', () => {
      const ed25519 = generateKeyPair('ed25519');
      const api = loadConfig(credentials({ UPVEST_SIGNING_KEY: ed25519.privateKeyPem, UPVEST_SIGNING_KEY_ID: ed25519.kid })).upvestApi;
      expect(api?.signingKey.privateKey.asymmetricKeyType).toBe('ed25519');
    });

    it('reads a PEM whose line breaks are written as literal \\n escapes', () => {
      const escaped = keyPair.privateKeyPem.trimEnd().replace(/\n/g, '\\n');
      expect(escaped).not.toContain('\n');

      const { privateKey } = loadConfig(credentials({ UPVEST_SIGNING_KEY: escaped })).upvestApi!.signingKey;
      expect(privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(keyPair.privateKeyPem);
    });

    it('reads the signing key from UPVEST_SIGNING_KEY_FILE', () => {
      const file = writeTempFile('signing-key.pem', keyPair.privateKeyPem);
      const api = loadConfig(credentials({ UPVEST_SIGNING_KEY: '', UPVEST_SIGNING_KEY_FILE: file })).upvestApi;
      expect(api?.signingKey.privateKey.export({ type: 'pkcs8', format: 'pem' })).toBe(keyPair.privateKeyPem);
    });

    it.each([
      [{ UPVEST_CLIENT_ID: 'client' }, 'UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY_ID, UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE'],
      [{ UPVEST_CLIENT_SECRET: CLIENT_SECRET, UPVEST_SIGNING_KEY_ID: 'kid' }, 'UPVEST_CLIENT_ID, UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE'],
      [{ UPVEST_SIGNING_KEY_FILE: '/nonexistent/key.pem' }, 'UPVEST_CLIENT_ID, UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY_ID'],
    ])('requires all API credentials or none: %j names the missing ones', (partial, missing) => {
      const problems = problemsOf(partial);
      expect(problems).toEqual([`${missing}: required with the other Upvest API credentials`]);
      expectNoSecrets(problems);
    });

    it('reports missing credentials together with other invalid variables', () => {
      expect(problemsOf({ PORT: 'abc', UPVEST_CLIENT_ID: 'client' })).toEqual([
        expect.stringMatching(/^PORT: /),
        'UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY_ID, UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE: required with the other Upvest API credentials',
      ]);
    });

    it('reports half a set of credentials in production once, not also as missing keys', () => {
      expect(problemsOf({ NODE_ENV: 'production', UPVEST_CLIENT_ID: 'client' })).toEqual([
        'UPVEST_CLIENT_SECRET, UPVEST_SIGNING_KEY_ID, UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE: required with the other Upvest API credentials',
      ]);
    });

    it('starts in production with API credentials and no JWKS', () => {
      const config = loadConfig({ NODE_ENV: 'production', ...credentials() });
      expect(config.webhook.verificationKeys).toBeUndefined();
      expect(config.upvestApi?.clientId).toBe('363f3305-7ab0-4e82-a158-f9d382ad08b6');
    });

    it('refuses both UPVEST_SIGNING_KEY and UPVEST_SIGNING_KEY_FILE', () => {
      const file = writeTempFile('both.pem', keyPair.privateKeyPem);
      const problems = problemsOf(credentials({ UPVEST_SIGNING_KEY_FILE: file }));
      expect(problems).toEqual(['UPVEST_SIGNING_KEY and UPVEST_SIGNING_KEY_FILE: set only one of them']);
      expectNoSecrets(problems, keyPair.privateKeyPem.split('\n')[1]);
    });

    it('names UPVEST_SIGNING_KEY_FILE when the file cannot be read', () => {
      const missing = path.join(directory, 'missing-key.pem');
      expect(problemsOf(credentials({ UPVEST_SIGNING_KEY: '', UPVEST_SIGNING_KEY_FILE: missing }))).toEqual([
        `UPVEST_SIGNING_KEY_FILE: cannot read ${missing} (ENOENT)`,
      ]);
    });

    const notAKey = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n';
    const publicKeyPem = crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const secp256k1Pem = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    it.each([
      ['a PEM that holds no key', notAKey],
      ['a public key', publicKeyPem],
      ['a key of an unsupported curve', secp256k1Pem],
      ['text that is no PEM at all', 'my-signing-key-material'],
    ])('reports %s in UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE without echoing it', (_what, pem) => {
      const body = pem.split('\n').find((line) => line !== '' && !line.startsWith('-----')) as string;

      const inline = problemsOf(credentials({ UPVEST_SIGNING_KEY: pem }));
      expect(inline).toEqual([expect.stringMatching(/^UPVEST_SIGNING_KEY: not a usable PEM private key \(.+\)$/)]);
      expectNoSecrets(inline, body);

      const file = writeTempFile('unusable.pem', pem);
      const fromFile = problemsOf(credentials({ UPVEST_SIGNING_KEY: '', UPVEST_SIGNING_KEY_FILE: file }));
      expect(fromFile).toEqual([expect.stringMatching(/^UPVEST_SIGNING_KEY_FILE: not a usable PEM private key/)]);
      expectNoSecrets(fromFile, body);
    });

    it('rejects a maximum API retry delay below the base delay', () => {
      expect(problemsOf({ UPVEST_API_RETRY_BASE_MS: '5000', UPVEST_API_RETRY_MAX_MS: '1000' })).toEqual([
        'UPVEST_API_RETRY_MAX_MS: must not be smaller than UPVEST_API_RETRY_BASE_MS',
      ]);
    });
  });

  it('names an invalid variable and an invalid JWKS together in one ConfigError', () => {
    const problems = problemsOf({ PORT: 'abc', UPVEST_WEBHOOK_JWKS: '{' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['PORT', 'UPVEST_WEBHOOK_JWKS']);
  });

  describe('docs/configuration.md', () => {
    /** What loading `env` gives: the configuration, or the problems of its ConfigError. */
    const outcomeOf = (env: NodeJS.ProcessEnv): unknown => {
      try {
        return loadConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
    };
    // libuv reads UV_THREADPOOL_SIZE itself; the service only defaults it before anything else runs.
    const readByTheConfiguration = documentedVariables().filter((variable) => variable !== 'UV_THREADPOOL_SIZE');

    it.each(readByTheConfiguration)('documents %s, which the configuration reads', (variable) => {
      expect(outcomeOf({ [variable]: 'x' })).not.toEqual(outcomeOf({}));
    });
  });
});
