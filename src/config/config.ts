import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TargetAllowList } from '../push/targetAddresses';
import { algorithmOfKey, type SigningKey, VerificationKeySet } from '../signature';
import { ConfigError } from './errors';

const roles = ['all', 'api', 'worker'] as const;
export type ServiceRole = (typeof roles)[number];

const integer = (min: number) => z.coerce.number().int().min(min);
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const milliseconds = (seconds: number) => seconds * 1000;
const toUrl = (text: string) => new URL(text);
/** A comma-separated allow-list of addresses and CIDR ranges; each invalid entry is a problem of the variable. */
const allowListOf = (text: string, context: z.RefinementCtx) => {
  try {
    return new TargetAllowList(text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''));
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
};

/** What docs/configuration.md says of a variable besides its name. Markdown; links are relative to docs/. */
export interface VariableDocumentation {
  meaning: string;
  /** Said in brackets after the default, e.g. "5 MiB" after 5242880. */
  defaultNote?: string;
  /** Listed with the Upvest API's variables, which matter only with its credentials. */
  upvestApi?: true;
}

/** One environment variable: its name, the schema that parses its text into the configured value, and its documentation. */
export interface Variable<Schema extends z.ZodType = z.ZodType> {
  name: string;
  schema: Schema;
  documentation: VariableDocumentation;
}

/** A variable, with its `meaning` and, said after its default, its `defaultNote` (Markdown; links are relative to docs/). */
const variable = <Schema extends z.ZodType>(name: string, schema: Schema, meaning: string, defaultNote?: string): Variable<Schema> => ({
  name,
  schema,
  documentation: { meaning, defaultNote },
});

/** A variable of the Upvest API, which matters only with its credentials: documented in a table of its own. */
const apiVariable = <Schema extends z.ZodType>(name: string, schema: Schema, meaning: string): Variable<Schema> => ({
  name,
  schema,
  documentation: { meaning, upvestApi: true },
});

interface VariableTree {
  [key: string]: Variable | VariableTree;
}

/** The values a tree of variables is read into, in the same shape. */
type ValuesOf<Tree> = { [Key in keyof Tree]: Tree[Key] extends Variable<infer Schema> ? z.output<Schema> : ValuesOf<Tree[Key]> };

/**
 * Every setting read from a single variable. A default is applied before a transform, so that it is
 * given in the variable's own unit. docs/configuration.md is generated from this tree (npm run docs:config).
 */
const variables = {
  environment: variable('NODE_ENV', z.string().default('development'), 'With `production`, a JWKS or the Upvest API credentials are required.'),
  role: variable('ROLE', z.enum(roles).default('all'),
    '`api` (HTTP only), `worker` (projection only; serves `/healthz` and `/readyz`), or `all` (both in one process).'),
  port: variable('PORT', integer(0).max(65535).default(3000), 'HTTP port.'),
  logLevel: variable('LOG_LEVEL', z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']).default('info'),
    '`error`, `warn`, `info`, `http`, `verbose`, `debug`, `silly`. Logs are JSON lines on stdout. `npm run cli` logs to stderr, at `warn` unless set.'),
  database: {
    url: variable('DATABASE_URL', z.url({ protocol: /^postgres(ql)?$/ }).default('postgresql://postgres@127.0.0.1:5432/upvest_webhooks'), 'Postgres.'),
    poolSize: variable('DATABASE_POOL_SIZE', integer(1).default(10), 'Connections per process.'),
    migrateOnStart: variable('MIGRATE_ON_START', booleanFlag.default(true),
      'Create the database if missing and apply pending migrations at start. Replicas take an advisory lock (the one `prisma migrate` uses), so they never migrate at the same time.'),
  },
  redis: {
    url: variable('REDIS_URL', z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'), 'Redis (`rediss://` for TLS).'),
    prefix: variable('REDIS_PREFIX', z.string().min(1).default('upvest-webhooks'), 'Prefix of every Redis key: the BullMQ queues.'),
  },
  webhook: {
    path: variable('WEBHOOK_PATH', z.string().startsWith('/').default('/webhooks/upvest'), 'Route the service listens on.'),
    /** What the provider signed: the public URL before any ingress rewrote it. */
    publicUrl: variable('WEBHOOK_PUBLIC_URL', z.url({ protocol: /^https?$/ }).transform(toUrl).optional(),
      "The URL registered at Upvest, e.g. `https://hooks.example.com/upvest/webhooks/upvest`. `@path`, `@authority`, `@scheme` and `@target-uri` are checked against it, not against the request's `Host` or a path rewritten by the ingress. Without it, `@path` is the path the service sees, and a signature that covers `@authority` is refused."),
    bodyLimitBytes: variable('WEBHOOK_BODY_LIMIT_BYTES', integer(1024).default(5 * 1024 * 1024),
      'Larger bodies get 413. The provider sends batches of up to 1 MiB, and a single larger event alone.', '5 MiB'),
    keyRefreshIntervalMs: apiVariable('VERIFY_KEYS_REFRESH_INTERVAL_SECONDS', integer(10).default(3600).transform(milliseconds),
      'How often the webhook verification keys are fetched again (only without `UPVEST_WEBHOOK_JWKS`).'),
    keyMinRefreshIntervalMs: apiVariable('VERIFY_KEYS_MIN_REFRESH_INTERVAL_SECONDS', integer(0).default(30).transform(milliseconds),
      'A webhook signed with an unknown `keyid` triggers a refresh at most this often: key ids are attacker-controlled.'),
  },
  /** Used only together with the API credentials. */
  upvestApi: {
    baseUrl: apiVariable('UPVEST_BASE_URL', z.url({ protocol: /^https?$/ }).default('https://sandbox.upvest.co').transform(toUrl),
      '`https://api.upvest.co` for live.'),
    /** Per attempt, including reading the answer. */
    timeoutMs: apiVariable('UPVEST_API_TIMEOUT_MS', integer(100).default(10000), 'Per attempt.'),
    /** Retries after the first attempt, for 429, 5xx and no answer. */
    maxRetries: apiVariable('UPVEST_API_MAX_RETRIES', integer(0).default(5),
      'Retries of a call answered 429 or 5xx, or not answered. Other 4xx are not retried.'),
    retryBaseDelayMs: apiVariable('UPVEST_API_RETRY_BASE_MS', integer(1).default(500), 'Back-off between retries, exponential with jitter, starting at this.'),
    /** Longest wait between attempts; a Retry-After beyond it ends the retries. */
    retryMaxDelayMs: apiVariable('UPVEST_API_RETRY_MAX_MS', integer(1).default(30000),
      'The cap of the `UPVEST_API_RETRY_BASE_MS` back-off. A `Retry-After` is honoured; one longer than this maximum ends the retries.'),
    requestsPerSecond: apiVariable('UPVEST_API_REQUESTS_PER_SECOND', z.coerce.number().positive().default(10),
      'Calls are spaced to stay under this rate, per process.'),
  },
  /** Of the HTTP server and the metrics server. */
  http: {
    headersTimeoutMs: variable('HTTP_HEADERS_TIMEOUT_MS', integer(1000).default(60000),
      'A client that has not sent all headers this long after connecting (or after its previous request) gets 408 and its connection is closed. These four settings apply to `METRICS_PORT` too.'),
    requestTimeoutMs: variable('HTTP_REQUEST_TIMEOUT_MS', integer(1000).default(120000),
      'The same for the whole request, body included: enough for a body of `WEBHOOK_BODY_LIMIT_BYTES` (5 MiB) at 350 kbit/s. Not smaller than `HTTP_HEADERS_TIMEOUT_MS`.'),
    keepAliveTimeoutMs: variable('HTTP_KEEP_ALIVE_TIMEOUT_MS', integer(1000).default(65000),
      'An idle keep-alive connection is closed after this (plus one second). Above the idle timeout of the ingress in front (nginx and AWS ALB: 60 s), so that the ingress, not the service, closes it and never sends a request on a connection the service is closing.'),
    timeoutCheckIntervalMs: variable('HTTP_TIMEOUT_CHECK_INTERVAL_MS', integer(100).default(5000),
      'How often Node checks the two timeouts above, so a connection may stay open up to this much longer: one that sends nothing is closed within 65 s by default.'),
  },
  metrics: {
    /** A port of its own, so that /metrics is not reachable through the ingress; 0 = on the main port. */
    port: variable('METRICS_PORT', integer(0).max(65535).default(9464),
      'Port of the Prometheus endpoint, a server of its own that the ingress never routes to. `0` serves it on `PORT` instead.'),
    path: variable('METRICS_PATH', z.string().startsWith('/').default('/metrics'),
      'Path of the Prometheus endpoint. With `METRICS_PORT=0` it must differ from `WEBHOOK_PATH`.'),
  },
  /** Bearer token of /admin; undefined = admin API off. */
  adminToken: variable('ADMIN_TOKEN', z.string().min(16, 'must be at least 16 characters').optional(),
    'Turns on the admin API under `/admin` (≥ 16 characters), see [Operations](operations.md#admin-api-and-cli). API role only.'),
  /** Bearer token of the read API /v1; undefined = read API off. */
  readApiToken: variable('READ_API_TOKEN', z.string().min(16, 'must be at least 16 characters').optional(),
    'Turns on the read API under `/v1` (≥ 16 characters), see [Read API](read-api.md). API role only.'),
  reconciliation: {
    /** 0 = no periodic reconciliation. */
    intervalMs: apiVariable('RECONCILIATION_INTERVAL_SECONDS', integer(0).default(600).transform(milliseconds),
      'How often the worker reconciles; `0` turns it off (and removes a schedule left by an earlier deployment).'),
    staleAfterSeconds: apiVariable('RECONCILIATION_STALE_AFTER_SECONDS', integer(0).default(3600),
      'A payment in `NEW` or `PROCESSING` for longer than this is fetched from the API, then again at most once per this interval.'),
    maxPaymentsPerRun: apiVariable('RECONCILIATION_MAX_PAYMENTS_PER_RUN', integer(1).default(500), 'Payments fetched per run, least recently checked first.'),
  },
  signature: {
    baseFormat: variable('SIGNATURE_BASE_FORMAT', z.enum(['v6', 'v15']).default('v6'),
      "`v6`: Upvest's webhook signatures (draft 06, component names **not** quoted). `v15`: RFC 9421 base (names quoted)."),
    clockSkewSeconds: variable('SIGNATURE_CLOCK_SKEW_SECONDS', integer(0).default(60),
      'A `created` further in the future than this is rejected. Also the tolerance of the other time checks.'),
    maxAgeSeconds: variable('SIGNATURE_MAX_AGE_SECONDS', integer(0).default(0),
      'Reject signatures whose `created` is older than this. See [why the default is no limit](provider.md#signature-verification).', 'no limit'),
    enforceExpires: variable('SIGNATURE_ENFORCE_EXPIRES', booleanFlag.default(false), 'Reject signatures past their `expires` (plus skew).'),
  },
  ingest: {
    timeoutMs: variable('INGEST_TIMEOUT_MS', integer(50).default(2000), 'Longest wait for Postgres to commit a delivery before the answer is 503.'),
    retryAfterSeconds: variable('RETRY_AFTER_SECONDS', integer(1).default(5), '`Retry-After` on a 503.'),
  },
  inbox: {
    sweepIntervalMs: variable('INBOX_SWEEP_INTERVAL_SECONDS', integer(1).default(30).transform(milliseconds),
      'How often each worker runs the [inbox sweeper](architecture.md#the-inbox) (one sweep at a time across all workers).'),
    /** Committed events without a live job are queued again once they are this old. */
    sweepAfterSeconds: variable('INBOX_SWEEP_AFTER_SECONDS', integer(1).default(60),
      'Committed events that no live job holds are queued again once they were received this long ago. Also how long the projection of a delivery whose job Redis did not take is delayed.'),
  },
  worker: {
    concurrency: variable('WORKER_CONCURRENCY', integer(1).default(50),
      'Jobs a worker process holds at once. A job names up to thousands of events (one delivery, or several committed together); the worker reads them at most `PROJECTION_BATCH_SIZE` at a time and projects the events of all its jobs together in batches.'),
    batchSize: variable('PROJECTION_BATCH_SIZE', integer(1).default(500), 'Most events per Postgres transaction.'),
    batchWaitMs: variable('PROJECTION_BATCH_WAIT_MS', integer(0).default(10), 'How long a batch waits to fill before it is written.'),
    attempts: variable('JOB_ATTEMPTS', integer(1).default(50),
      'Attempts per job before it is failed for good (transient errors only). With `JOB_BACKOFF_*` it is one retry policy (`src/queue/retryPolicy.ts`): the attempts travel with each job from the role that queues it, the back-off is applied by the worker, so give api and worker the same values. A job of several events that runs out of them splits into one job per event (one attempt each), so that the failed set holds events.'),
    backoffMs: variable('JOB_BACKOFF_MS', integer(1).default(1000),
      'Exponential back-off between attempts, starting at this, with jitter (a random delay between half and all of it).'),
    backoffMaxMs: variable('JOB_BACKOFF_MAX_MS', integer(1).default(5 * 60 * 1000),
      'The cap of the `JOB_BACKOFF_MS` back-off. 50 attempts cover a database outage of up to about 3.5 hours (the jitter makes it 1.7 to 3.5 hours, about 2.6 on average).'),
    lockDurationMs: variable('WORKER_LOCK_DURATION_MS', integer(1000).default(30000),
      'BullMQ job lock. A job whose worker died is taken over after about this long.'),
  },
  /** Pushes to subscribers (docs/push.md), run by the worker role. */
  push: {
    allowHttp: variable('PUSH_ALLOW_HTTP', booleanFlag.default(false),
      'Allow `http://` subscription URLs with `NODE_ENV=production`. Outside production they are always allowed.'),
    allowedTargets: variable('PUSH_ALLOWED_TARGETS', z.string().default('').transform(allowListOf),
      'Addresses and CIDR ranges (comma-separated, e.g. `10.20.0.0/16,fd00::1`) that subscriptions may reach although they are loopback, private, link-local or metadata addresses, which are refused otherwise. Checked on every connection, after DNS.', 'none'),
    connectTimeoutMs: variable('PUSH_CONNECT_TIMEOUT_MS', integer(100).default(5000), 'Longest wait for a connection to a subscriber (DNS, TCP, TLS).'),
    timeoutMs: variable('PUSH_TIMEOUT_MS', integer(100).default(15000),
      "Longest delivery attempt, from connecting to the end of the subscriber's answer; an attempt past it counts as failed (`timeout`) and is retried."),
    concurrencyPerSubscription: variable('PUSH_CONCURRENCY_PER_SUBSCRIPTION', integer(1).default(32),
      'Deliveries in flight per subscription and worker process, each of a different payment. A slow subscriber holds only its own.'),
    pollIntervalMs: variable('PUSH_POLL_INTERVAL_MS', integer(50).default(1000),
      'How often a worker looks for changes and due retries without being woken. A commit of a status change wakes every worker at once.'),
    failingAfterHours: variable('PUSH_FAILING_AFTER_HOURS', integer(1).default(24),
      'A subscription whose oldest undelivered change has been failing this long is marked `failing` (and alerted on); retries go on hourly. See the [schedule](push.md#retries).'),
    keepDeliveredDays: variable('PUSH_KEEP_DELIVERED_DAYS', integer(0).default(7), 'How long delivered changes stay in `push_deliveries`, for queries and replays.'),
  },
  shutdownTimeoutMs: variable('SHUTDOWN_TIMEOUT_MS', integer(0).default(25000),
    'Longest graceful shutdown. After that, open connections are dropped and the process exits 1.'),
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

/** Every variable of the tree, in its order. */
export const settingVariables: readonly Variable[] = variablesIn(variables);

/** All variables in one schema, so that every invalid one is named in one error. */
const environmentSchema = z.object(Object.fromEntries(settingVariables.map(({ name, schema }) => [name, schema])));

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

/** A variable read outside the tree; its default, if it has one, is described, as no schema applies it. */
export interface VariableReadElsewhere extends Omit<VariableDocumentation, 'defaultNote'> {
  name: string;
  defaultDescription?: string;
}

/**
 * The variables read below, from the raw environment, and UV_THREADPOOL_SIZE, which libuv reads and
 * src/runtime/threadPoolSize.ts only defaults. Documented here so that docs/configuration.md covers every variable.
 */
export const variablesReadElsewhere: readonly VariableReadElsewhere[] = [
  {
    name: 'UPVEST_WEBHOOK_JWKS',
    meaning:
      'The provider\'s public keys as inline JWKS JSON (`{"keys":[{"kid":…,"kty":"EC","crv":"P-521",…}]}`). Several keys may be listed, ' +
      'for rotation. EC P-521/P-384/P-256 and Ed25519 are supported.',
  },
  { name: 'UPVEST_WEBHOOK_JWKS_FILE', meaning: 'The same, read from a file. Set only one of the two.' },
  {
    name: 'UV_THREADPOOL_SIZE',
    defaultDescription: "number of cores, or the container's CPU limit rounded up if lower",
    meaning:
      "libuv's thread pool, where signatures are verified. Node's default of 4 preempts the event loop on small machines. The limit is " +
      'read from the cgroup (`cpu.max`, or `cpu.cfs_quota_us` on cgroup v1), so a Kubernetes CPU limit of 1 gives one thread on a ' +
      '16-core node.',
  },
  { name: 'UPVEST_CLIENT_ID', meaning: "The tenant's OAuth client id.", upvestApi: true },
  {
    name: 'UPVEST_CLIENT_SECRET',
    meaning: "The tenant's OAuth client secret. It is only ever sent in the token request and never logged.",
    upvestApi: true,
  },
  {
    name: 'UPVEST_SIGNING_KEY',
    meaning: "The tenant's private key (PEM, EC P-521 or Ed25519) that signs every API request. Inline PEM may use `\\n` escapes.",
    upvestApi: true,
  },
  { name: 'UPVEST_SIGNING_KEY_FILE', meaning: 'The same, read from a file. Set only one of the two.', upvestApi: true },
  { name: 'UPVEST_SIGNING_KEY_ID', meaning: 'The key id Upvest knows that key by (`keyid` in the signature).', upvestApi: true },
];

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
