import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { VerificationKeySet } from '../signature/verificationKeys';

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
  DEDUP_TTL_SECONDS: integer(60).default(7 * 24 * 3600),
  WORKER_CONCURRENCY: integer(1).default(1000),
  PROJECTION_BATCH_SIZE: integer(1).default(500),
  PROJECTION_BATCH_WAIT_MS: integer(0).default(10),
  JOB_ATTEMPTS: integer(1).default(50),
  JOB_BACKOFF_MS: integer(1).default(1000),
  JOB_BACKOFF_MAX_MS: integer(1).default(5 * 60 * 1000),
  WORKER_LOCK_DURATION_MS: integer(1000).default(30000),
  SHUTDOWN_TIMEOUT_MS: integer(0).default(25000),
});

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
    /** The provider's keys; undefined means "not configured" (a development key is used outside production). */
    verificationKeys?: VerificationKeySet;
  };
  signature: {
    baseFormat: 'v6' | 'v15';
    clockSkewSeconds: number;
    maxAgeSeconds: number;
    enforceExpires: boolean;
  };
  ingest: { timeoutMs: number; retryAfterSeconds: number; dedupTtlSeconds: number };
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
  const verificationKeys = readVerificationKeys(definedOnly.UPVEST_WEBHOOK_JWKS, definedOnly.UPVEST_WEBHOOK_JWKS_FILE, problems);
  if (!parsed.success) throw new ConfigError(problems);
  const env = parsed.data;
  if (verificationKeys === undefined && problems.length === 0 && env.NODE_ENV === 'production') {
    problems.push('UPVEST_WEBHOOK_JWKS or UPVEST_WEBHOOK_JWKS_FILE: required when NODE_ENV=production');
  }
  if (env.JOB_BACKOFF_MAX_MS < env.JOB_BACKOFF_MS) {
    problems.push('JOB_BACKOFF_MAX_MS: must not be smaller than JOB_BACKOFF_MS');
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
      dedupTtlSeconds: env.DEDUP_TTL_SECONDS,
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

function readVerificationKeys(inline: string | undefined, file: string | undefined, problems: string[]): VerificationKeySet | undefined {
  if (inline !== undefined && file !== undefined) {
    problems.push('UPVEST_WEBHOOK_JWKS and UPVEST_WEBHOOK_JWKS_FILE: set only one of them');
    return undefined;
  }
  if (inline !== undefined) return parseJwks('UPVEST_WEBHOOK_JWKS', inline, problems);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`UPVEST_WEBHOOK_JWKS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return undefined;
  }
  return parseJwks('UPVEST_WEBHOOK_JWKS_FILE', text, problems);
}

function parseJwks(variable: string, text: string, problems: string[]): VerificationKeySet | undefined {
  try {
    return VerificationKeySet.fromJwks(JSON.parse(text));
  } catch (error) {
    problems.push(`${variable}: ${error instanceof SyntaxError ? 'not valid JSON' : (error as Error).message}`);
    return undefined;
  }
}
