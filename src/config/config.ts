import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { algorithmOfKey, type SigningKey, VerificationKeySet } from '../signature';
import { ConfigError } from './errors';

const roles = ['all', 'api', 'worker'] as const;
export type ServiceRole = (typeof roles)[number];

const integer = (min: number) => z.coerce.number().int().min(min);
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const milliseconds = (seconds: number) => seconds * 1000;
const toUrl = (text: string) => new URL(text);

/** One environment variable: its name and the schema that parses its text into the configured value. */
interface Variable<Schema extends z.ZodType = z.ZodType> {
  name: string;
  schema: Schema;
}

const variable = <Schema extends z.ZodType>(name: string, schema: Schema): Variable<Schema> => ({ name, schema });

interface VariableTree {
  [key: string]: Variable | VariableTree;
}

/** The values a tree of variables is read into, in the same shape. */
type ValuesOf<Tree> = { [Key in keyof Tree]: Tree[Key] extends Variable<infer Schema> ? z.output<Schema> : ValuesOf<Tree[Key]> };

/**
 * Every setting read from a single variable. A default is applied before a transform, so that it is
 * given in the variable's own unit.
 */
const variables = {
  environment: variable('NODE_ENV', z.string().default('development')),
  role: variable('ROLE', z.enum(roles).default('all')),
  port: variable('PORT', integer(0).max(65535).default(3000)),
  logLevel: variable('LOG_LEVEL', z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info')),
  database: {
    url: variable('DATABASE_URL', z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/upvest_webhooks')),
    poolSize: variable('DATABASE_POOL_SIZE', integer(1).default(10)),
    migrateOnStart: variable('MIGRATE_ON_START', booleanFlag.default(true)),
  },
  redis: {
    url: variable('REDIS_URL', z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379')),
    prefix: variable('REDIS_PREFIX', z.string().min(1).default('upvest-webhooks')),
  },
  webhook: {
    path: variable('WEBHOOK_PATH', z.string().startsWith('/').default('/webhooks/upvest')),
    /** What the provider signed: the public URL before any ingress rewrote it. */
    publicUrl: variable('WEBHOOK_PUBLIC_URL', z.url({ protocol: /^https?$/ }).transform(toUrl).optional()),
    bodyLimitBytes: variable('WEBHOOK_BODY_LIMIT_BYTES', integer(1024).default(5 * 1024 * 1024)),
    keyRefreshIntervalMs: variable('VERIFY_KEYS_REFRESH_INTERVAL_SECONDS', integer(10).default(3600).transform(milliseconds)),
    keyMinRefreshIntervalMs: variable('VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS', integer(0).default(30).transform(milliseconds)),
  },
  /** Used only together with the API credentials. */
  upvestApi: {
    baseUrl: variable('UPVEST_BASE_URL', z.url({ protocol: /^https?$/ }).default('https://sandbox.upvest.co').transform(toUrl)),
    /** Per attempt, including reading the answer. */
    timeoutMs: variable('UPVEST_API_TIMEOUT_MS', integer(100).default(10000)),
    /** Retries after the first attempt, for 429, 5xx and no answer. */
    maxRetries: variable('UPVEST_API_MAX_RETRIES', integer(0).default(5)),
    retryBaseDelayMs: variable('UPVEST_API_RETRY_BASE_MS', integer(1).default(500)),
    /** Longest wait between attempts; a Retry-After beyond it ends the retries. */
    retryMaxDelayMs: variable('UPVEST_API_RETRY_MAX_MS', integer(1).default(30000)),
    requestsPerSecond: variable('UPVEST_API_REQUESTS_PER_SECOND', z.coerce.number().positive().default(10)),
  },
  /** Of the HTTP server and the metrics server; see README "Configuration". */
  http: {
    headersTimeoutMs: variable('HTTP_HEADERS_TIMEOUT_MS', integer(1000).default(60000)),
    requestTimeoutMs: variable('HTTP_REQUEST_TIMEOUT_MS', integer(1000).default(120000)),
    keepAliveTimeoutMs: variable('HTTP_KEEP_ALIVE_TIMEOUT_MS', integer(1000).default(65000)),
    timeoutCheckIntervalMs: variable('HTTP_TIMEOUT_CHECK_INTERVAL_MS', integer(100).default(5000)),
  },
  metrics: {
    /** A port of its own, so that /metrics is not reachable through the ingress; 0 = on the main port. */
    port: variable('METRICS_PORT', integer(0).max(65535).default(9464)),
    path: variable('METRICS_PATH', z.string().startsWith('/').default('/metrics')),
  },
  /** Bearer token of /admin; undefined = admin API off. */
  adminToken: variable('ADMIN_TOKEN', z.string().min(16, 'must be at least 16 characters').optional()),
  /** Bearer token of the read API /v1; undefined = read API off. */
  readApiToken: variable('READ_API_TOKEN', z.string().min(16, 'must be at least 16 characters').optional()),
  reconciliation: {
    /** 0 = no periodic reconciliation. */
    intervalMs: variable('RECONCILIATION_INTERVAL_SECONDS', integer(0).default(600).transform(milliseconds)),
    staleAfterSeconds: variable('RECONCILIATION_STALE_AFTER_SECONDS', integer(0).default(3600)),
    maxPaymentsPerRun: variable('RECONCILIATION_MAX_PAYMENTS_PER_RUN', integer(1).default(500)),
  },
  signature: {
    baseFormat: variable('SIGNATURE_BASE_FORMAT', z.enum(['v6', 'v15']).default('v6')),
    clockSkewSeconds: variable('SIGNATURE_CLOCK_SKEW_SECONDS', integer(0).default(60)),
    maxAgeSeconds: variable('SIGNATURE_MAX_AGE_SECONDS', integer(0).default(0)),
    enforceExpires: variable('SIGNATURE_ENFORCE_EXPIRES', booleanFlag.default(false)),
  },
  ingest: {
    timeoutMs: variable('INGEST_TIMEOUT_MS', integer(50).default(2000)),
    retryAfterSeconds: variable('RETRY_AFTER_SECONDS', integer(1).default(5)),
  },
  inbox: {
    sweepIntervalMs: variable('INBOX_SWEEP_INTERVAL_SECONDS', integer(1).default(30).transform(milliseconds)),
    /** Committed events without a live job are queued again once they are this old. */
    sweepAfterSeconds: variable('INBOX_SWEEP_AFTER_SECONDS', integer(1).default(60)),
  },
  worker: {
    concurrency: variable('WORKER_CONCURRENCY', integer(1).default(50)),
    batchSize: variable('PROJECTION_BATCH_SIZE', integer(1).default(500)),
    batchWaitMs: variable('PROJECTION_BATCH_WAIT_MS', integer(0).default(10)),
    attempts: variable('JOB_ATTEMPTS', integer(1).default(50)),
    backoffMs: variable('JOB_BACKOFF_MS', integer(1).default(1000)),
    backoffMaxMs: variable('JOB_BACKOFF_MAX_MS', integer(1).default(5 * 60 * 1000)),
    lockDurationMs: variable('WORKER_LOCK_DURATION_MS', integer(1000).default(30000)),
  },
  shutdownTimeoutMs: variable('SHUTDOWN_TIMEOUT_MS', integer(0).default(25000)),
} satisfies VariableTree;

type Settings = ValuesOf<typeof variables>;
type ApiSettings = Settings['upvestApi'];

/** How to reach the provider's API; present only when its credentials are configured. */
export interface UpvestApiConfig extends ApiSettings {
  clientId: string;
  clientSecret: string;
  /** The tenant's own key, registered with Upvest: EC P-521 (or Ed25519). */
  signingKey: SigningKey;
}

export interface Config extends Omit<Settings, 'webhook' | 'upvestApi'> {
  webhook: Settings['webhook'] & {
    /**
     * The provider's keys. Undefined means "not configured": they are then fetched from the
     * provider's API when its credentials are configured, else a development key is used outside production.
     */
    verificationKeys?: VerificationKeySet;
  };
  upvestApi?: UpvestApiConfig;
}

function isVariable(node: Variable | VariableTree): node is Variable {
  return node.schema instanceof z.ZodType;
}

function variablesIn(tree: VariableTree): Variable[] {
  return Object.values(tree).flatMap((node) => (isVariable(node) ? [node] : variablesIn(node)));
}

/** The tree with each variable replaced by its parsed value. */
function valuesOf(tree: VariableTree, parsed: Record<string, unknown>): unknown {
  return Object.fromEntries(Object.entries(tree).map(([key, node]) => [key, isVariable(node) ? parsed[node.name] : valuesOf(node, parsed)]));
}

/** All variables in one schema, so that every invalid one is named in one error. */
const environmentSchema = z.object(Object.fromEntries(variablesIn(variables).map(({ name, schema }) => [name, schema])));

/** Reads and validates the whole configuration once; every invalid variable is named in one error. */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const definedOnly = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(definedOnly);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const verificationKeys = readVerificationKeys(definedOnly, problems);
  const credentials = readApiCredentials(definedOnly, problems);
  if (!parsed.success) throw new ConfigError(problems);
  const settings = valuesOf(variables, parsed.data) as Settings;
  if (verificationKeys === undefined && credentials === undefined && problems.length === 0 && settings.environment === 'production') {
    problems.push('UPVEST_WEBHOOK_JWKS or UPVEST_WEBHOOK_JWKS_FILE, or the UPVEST_CLIENT_* API credentials: required when NODE_ENV=production');
  }
  if (settings.upvestApi.retryMaxDelayMs < settings.upvestApi.retryBaseDelayMs) {
    problems.push('UPVEST_API_RETRY_MAX_MS: must not be smaller than UPVEST_API_RETRY_BASE_MS');
  }
  if (settings.worker.backoffMaxMs < settings.worker.backoffMs) {
    problems.push('JOB_BACKOFF_MAX_MS: must not be smaller than JOB_BACKOFF_MS');
  }
  if (settings.http.headersTimeoutMs > settings.http.requestTimeoutMs) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be larger than HTTP_REQUEST_TIMEOUT_MS');
  }
  if (settings.metrics.port === 0 && settings.metrics.path === settings.webhook.path) {
    problems.push(`METRICS_PATH: must differ from WEBHOOK_PATH (${settings.webhook.path}) when the metrics are served on the main port (METRICS_PORT=0)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...settings,
    webhook: { ...settings.webhook, verificationKeys },
    upvestApi: credentials && { ...credentials, ...settings.upvestApi },
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
  const [clientId, clientSecret, kid] = API_CREDENTIALS.map((name) => env[name] as string);
  return { clientId, clientSecret, signingKey: { kid, privateKey } };
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
