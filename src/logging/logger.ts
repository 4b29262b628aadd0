import winston from 'winston';

export type Logger = winston.Logger;

/** Structured JSON logs on stdout. Callers must never pass signatures, secrets or whole bodies. */
export function createLogger(level: string, silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    defaultMeta: { service: 'upvest-webhook-receiver' },
    transports: [new winston.transports.Console()],
  });
}
