import winston from 'winston';

export type Logger = winston.Logger;

/**
 * Structured JSON logs, one object per line, on stdout, or another stream: stderr for command-line tools, whose stdout is for results (e.g. --json), or a test's.
 * Callers must never pass signatures, secrets, whole bodies or personal data (remittance text).
 *
 * Levels: error = work refused or lost on our side, or something an operator must fix; warn =
 * degraded but recovering by itself (a retry, a refused signature, quarantined content); info =
 * lifecycle and one line per outcome (a delivery acknowledged, a reconciliation run); http = one
 * line per HTTP request; debug = connection chatter (Redis reconnects, counted in the metrics).
 * Lines about a request carry its `requestId`, lines about a job its `jobId` and `eventId`: use
 * the child loggers made for them (`requestLoggerOf(response)`, the worker's job logger).
 */
export function createLogger(level: string, silent = false, destination: NodeJS.WritableStream = process.stdout): Logger {
  const logger = winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'upvest-webhook-receiver' },
    transports: [new winston.transports.Stream({ stream: destination })],
  });
  checkLevelFirst(logger);
  return logger;
}

type LevelMethod = (this: Logger, ...args: unknown[]) => Logger;

/**
 * winston formats every entry (timestamp, JSON) before its transport drops those below the level:
 * a line at info, below LOG_LEVEL=warn, would cost as much as one written. The level methods of
 * this logger, and of its children (created from it), check the level first.
 */
function checkLevelFirst(logger: Logger): void {
  const methods = logger as unknown as Record<string, LevelMethod>;
  for (const level of Object.keys(logger.levels)) {
    const log = methods[level];
    methods[level] = function logIfEnabled(this: Logger, ...args: unknown[]) {
      return this.isLevelEnabled(level) ? log.apply(this, args) : this;
    };
  }
}
