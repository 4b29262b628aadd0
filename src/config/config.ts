import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { algorithmOfKey, type SigningKey, VerificationKeySet } from '../signature';

const roles = ['all', 'api', 'worker'] as const;
export type ServiceRole = (typeof roles)[number];

const integer = (min: number) => z.coerce.number().int().min(min);
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const environmentSchema = z.object({
  NODE_ENV: z.string().default('development'),
  ROLE: z.enum(roles).default('all'),
  PORT: integer(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/upvest_webhooks'),
  DATABASE_POOL_SIZE: integer(1).default(10),
  MIGRATE_ON_START: booleanFlag.default(true),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().min(1).default('upvest-webhooks'),
  UPVEST_WEBHOOK_JWKS: z.string().optional(),
  UPVEST_WEBHOOK_JWKS_FILE: z.string().optional(),
  WEBHOOK_PATH: z.string().startsWith('/').default('/webhooks/upvest'),
  WEBHOOK_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  WEBHOOK_BODY_LIMIT_BYTES: integer(1024).default(5 * 1024 * 1024),
  SIGNATURE_BASE_FORMAT: z.enum(['v6', 'v15']).default('v6'),
  SIGNATURE_CLOCK_SKEW_SECONDS: integer(0).default(60),
  SIGNATURE_MAX_AGE_SECONDS: integer(0).default(0),
  SIGNATURE_ENFORCE_EXPIRES: booleanFlag.default(false),
  INGEST_TIMEOUT_MS: integer(50).default(2000),
  RETRY_AFTER_SECONDS: integer(1).default(5),
  INBOX_SWEEP_INTERVAL_SECONDS: integer(1).default(30),
  INBOX_SWEEP_AFTER_SECONDS: integer(1).default(60),
  WORKER_CONCURRENCY: integer(1).default(50),
  PROJECTION_BATCH_SIZE: integer(1).default(500),
  PROJECTION_BATCH_WAIT_MS: integer(0).default(10),
  JOB_ATTEMPTS: integer(1).default(50),
  JOB_BACKOFF_MS: integer(1).default(1000),
  JOB_BACKOFF_MAX_MS: integer(1).default(5 * 60 * 1000),
  WORKER_LOCK_DURATION_MS: integer(1000).default(30000),
  SHUTDOWN_TIMEOUT_MS: integer(0).default(25000),
  UPVEST_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://sandbox.upvest.co'),
  UPVEST_CLIENT_ID: z.string().optional(),
  UPVEST_CLIENT_SECRET: z.string().optional(),
  UPVEST_SIGNING_KEY: z.string().optional(),
  UPVEST_SIGNING_KEY_FILE: z.string().optional(),
  UPVEST_SIGNING_KEY_ID: z.string().optional(),
  UPVEST_API_TIMEOUT_MS: integer(100).default(10000),
  UPVEST_API_MAX_RETRIES: integer(0).default(5),
  UPVEST_API_RETRY_BASE_MS: integer(1).default(500),
  UPVEST_API_RETRY_MAX_MS: integer(1).default(30000),
  UPVEST_API_REQUESTS_PER_SECOND: z.coerce.number().positive().default(10),
  VERIFY_KEYS_REFRESH_INTERVAL_SECONDS: integer(10).default(3600),
  VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS: integer(0).default(30),
  RECONCILIATION_INTERVAL_SECONDS: integer(0).default(600),
  RECONCILIATION_STALE_AFTER_SECONDS: integer(0).default(3600),
  RECONCILIATION_MAX_PAYMENTS_PER_RUN: integer(1).default(500),
  METRICS_PORT: integer(0).max(65535).default(9464),
  METRICS_PATH: z.string().startsWith('/').default('/metrics'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  READ_API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** How to reach the provider's API; present only when its credentials are configured. */
export interface UpvestApiConfig {
  baseUrl: URL;
  clientId: string;
  clientSecret: string;
  /** The tenant's own key, registered with Upvest: EC P-521 (or Ed25519). */
  signingKey: SigningKey;
  /** Per attempt, including reading the answer. */
  timeoutMs: number;
  /** Retries after the first attempt, for 429, 5xx and no answer. */
  maxRetries: number;
  retryBaseDelayMs: number;
  /** Longest wait between attempts; a Retry-After beyond it ends the retries. */
  retryMaxDelayMs: number;
  requestsPerSecond: number;
}

export interface Config {
  environment: string;
  role: ServiceRole;
  port: number;
  logLevel: string;
  database: { url: string; poolSize: number; migrateOnStart: boolean };
  redis: { url: string; prefix: string };
  webhook: {
    path: string;
    /** What the provider signed: the public URL before any ingress rewrote it. */
    publicUrl?: URL;
    bodyLimitBytes: number;
    /**
     * The provider's keys. Undefined means "not configured": they are then fetched from the
     * provider's API when its credentials are configured, else a development key is used outside production.
     */
    verificationKeys?: VerificationKeySet;
    keyRefreshIntervalMs: number;
    keyMinRefreshIntervalMs: number;
  };
  upvestApi?: UpvestApiConfig;
  metrics: {
    /** A port of its own, so that /metrics is not reachable through the ingress; 0 = on the main port. */
    port: number;
    path: string;
  };
  /** Bearer token of /admin; undefined = admin API off. */
  adminToken?: string;
  /** Bearer token of the read API /v1; undefined = read API off. */
  readApiToken?: string;
  reconciliation: {
    /** 0 = no periodic reconciliation. */
    intervalMs: number;
    staleAfterSeconds: number;
    maxPaymentsPerRun: number;
  };
  signature: {
    baseFormat: 'v6' | 'v15';
    clockSkewSeconds: number;
    maxAgeSeconds: number;
    enforceExpires: boolean;
  };
  ingest: { timeoutMs: number; retryAfterSeconds: number };
  inbox: {
    sweepIntervalMs: number;
    /** Committed events without a live job are queued again once they are this old. */
    sweepAfterSeconds: number;
  };
  worker: {
    concurrency: number;
    batchSize: number;
    batchWaitMs: number;
    attempts: number;
    backoffMs: number;
    backoffMaxMs: number;
    lockDurationMs: number;
  };
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the whole configuration once; every invalid variable is named in one error. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const definedOnly = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(definedOnly);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const verificationKeys = readVerificationKeys(definedOnly, problems);
  const credentials = readApiCredentials(definedOnly, problems);
  if (!parsed.success) throw new ConfigError(problems);
  const env = parsed.data;
  const upvestApi: UpvestApiConfig | undefined = credentials && {
    ...credentials,
    baseUrl: new URL(env.UPVEST_BASE_URL),
    timeoutMs: env.UPVEST_API_TIMEOUT_MS,
    maxRetries: env.UPVEST_API_MAX_RETRIES,
    retryBaseDelayMs: env.UPVEST_API_RETRY_BASE_MS,
    retryMaxDelayMs: env.UPVEST_API_RETRY_MAX_MS,
    requestsPerSecond: env.UPVEST_API_REQUESTS_PER_SECOND,
  };
  if (verificationKeys === undefined && upvestApi === undefined && problems.length === 0 && env.NODE_ENV === 'production') {
    problems.push('UPVEST_WEBHOOK_JWKS or UPVEST_WEBHOOK_JWKS_FILE, or the UPVEST_CLIENT_* API credentials: required when NODE_ENV=production');
  }
  if (env.UPVEST_API_RETRY_MAX_MS < env.UPVEST_API_RETRY_BASE_MS) {
    problems.push('UPVEST_API_RETRY_MAX_MS: must not be smaller than UPVEST_API_RETRY_BASE_MS');
  }
  if (env.JOB_BACKOFF_MAX_MS < env.JOB_BACKOFF_MS) {
    problems.push('JOB_BACKOFF_MAX_MS: must not be smaller than JOB_BACKOFF_MS');
  }
  if (env.METRICS_PORT === 0 && env.METRICS_PATH === env.WEBHOOK_PATH) {
    problems.push(`METRICS_PATH: must differ from WEBHOOK_PATH (${env.WEBHOOK_PATH}) when the metrics are served on the main port (METRICS_PORT=0)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    environment: env.NODE_ENV,
    role: env.ROLE,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE, migrateOnStart: env.MIGRATE_ON_START },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    webhook: {
      path: env.WEBHOOK_PATH,
      publicUrl: env.WEBHOOK_PUBLIC_URL === undefined ? undefined : new URL(env.WEBHOOK_PUBLIC_URL),
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
      verificationKeys,
      keyRefreshIntervalMs: env.VERIFY_KEYS_REFRESH_INTERVAL_SECONDS * 1000,
      keyMinRefreshIntervalMs: env.VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS * 1000,
    },
    upvestApi,
    metrics: { port: env.METRICS_PORT, path: env.METRICS_PATH },
    adminToken: env.ADMIN_TOKEN,
    readApiToken: env.READ_API_TOKEN,
    reconciliation: {
      intervalMs: env.RECONCILIATION_INTERVAL_SECONDS * 1000,
      staleAfterSeconds: env.RECONCILIATION_STALE_AFTER_SECONDS,
      maxPaymentsPerRun: env.RECONCILIATION_MAX_PAYMENTS_PER_RUN,
    },
    signature: {
      baseFormat: env.SIGNATURE_BASE_FORMAT,
      clockSkewSeconds: env.SIGNATURE_CLOCK_SKEW_SECONDS,
      maxAgeSeconds: env.SIGNATURE_MAX_AGE_SECONDS,
      enforceExpires: env.SIGNATURE_ENFORCE_EXPIRES,
    },
    ingest: {
      timeoutMs: env.INGEST_TIMEOUT_MS,
      retryAfterSeconds: env.RETRY_AFTER_SECONDS,
    },
    inbox: {
      sweepIntervalMs: env.INBOX_SWEEP_INTERVAL_SECONDS * 1000,
      sweepAfterSeconds: env.INBOX_SWEEP_AFTER_SECONDS,
    },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      batchSize: env.PROJECTION_BATCH_SIZE,
      batchWaitMs: env.PROJECTION_BATCH_WAIT_MS,
      attempts: env.JOB_ATTEMPTS,
      backoffMs: env.JOB_BACKOFF_MS,
      backoffMaxMs: env.JOB_BACKOFF_MAX_MS,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

/**
 * A value given inline in NAME or as a file named by NAME_FILE, never both. Undefined when
 * neither is set or it cannot be read (then `problems` says why).
 */
function readInlineOrFile(env: Record<string, string | undefined>, name: string, problems: string[]): { variable: string; text: string } | undefined {
  const inline = env[name];
  const file = env[`${name}_FILE`];
  if (inline !== undefined && file !== undefined) {
    problems.push(`${name} and ${name}_FILE: set only one of them`);
    return undefined;
  }
  if (inline !== undefined) return { variable: name, text: inline };
  if (file === undefined) return undefined;
  const variable = `${name}_FILE`;
  try {
    return { variable, text: readFileSync(file, 'utf8') };
  } catch (error) {
    problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return undefined;
  }
}

function readVerificationKeys(env: Record<string, string | undefined>, problems: string[]): VerificationKeySet | undefined {
  const source = readInlineOrFile(env, 'UPVEST_WEBHOOK_JWKS', problems);
  return source && parseJwks(source.variable, source.text, problems);
}

function parseJwks(variable: string, text: string, problems: string[]): VerificationKeySet | undefined {
  try {
    return VerificationKeySet.fromJwks(JSON.parse(text));
  } catch (error) {
    problems.push(`${variable}: ${error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message}`);
    return undefined;
  }
}

const API_CREDENTIALS = ['UPVEST_CLIENT_ID', 'UPVEST_CLIENT_SECRET', 'UPVEST_SIGNING_KEY_ID'] as const;

type ApiCredentials = Pick<UpvestApiConfig, 'clientId' | 'clientSecret' | 'signingKey'>;

/**
 * All API credentials or none: half a set is a typo, not a choice. Read from the raw variables,
 * so that their problems are reported together with every other invalid variable.
 */
function readApiCredentials(env: Record<string, string | undefined>, problems: string[]): ApiCredentials | undefined {
  const keyGiven = env.UPVEST_SIGNING_KEY !== undefined || env.UPVEST_SIGNING_KEY_FILE !== undefined;
  const missing: string[] = API_CREDENTIALS.filter((name) => env[name] === undefined);
  if (missing.length === API_CREDENTIALS.length && !keyGiven) return undefined;
  if (!keyGiven) missing.push('UPVEST_SIGNING_KEY or UPVEST_SIGNING_KEY_FILE');
  if (missing.length > 0) {
    problems.push(`${missing.join(', ')}: required with the other Upvest API credentials`);
    return undefined;
  }
  const privateKey = readSigningKey(env, problems);
  if (privateKey === undefined) return undefined;
  return {
    clientId: env.UPVEST_CLIENT_ID as string,
    clientSecret: env.UPVEST_CLIENT_SECRET as string,
    signingKey: { kid: env.UPVEST_SIGNING_KEY_ID as string, privateKey },
  };
}

function readSigningKey(env: Record<string, string | undefined>, problems: string[]): crypto.KeyObject | undefined {
  const source = readInlineOrFile(env, 'UPVEST_SIGNING_KEY', problems);
  if (source === undefined) return undefined;
  // Inline PEM often arrives with its newlines escaped, e.g. from a one-line .env entry.
  const pem = source.variable === 'UPVEST_SIGNING_KEY' ? source.text.replace(/\\n/g, '\n') : source.text;
  try {
    const key = crypto.createPrivateKey(pem);
    algorithmOfKey(key);
    return key;
  } catch (error) {
    // The message of a parse error never contains the key material.
    problems.push(`${source.variable}: not a usable PEM private key (${(error as Error).message})`);
    return undefined;
  }
}
