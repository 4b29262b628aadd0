import { runCli } from '../cli/runCli';
import { createLogger } from '../logging/logger';

// Retries and skipped payments are logged as JSON on stderr; results go to stdout.
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', false, process.stderr);
const io = { out: (text: string) => process.stdout.write(`${text}\n`), err: (text: string) => process.stderr.write(`${text}\n`) };

runCli(process.argv.slice(2), io, process.env, logger).then(
  (code) => process.exit(code),
  (error) => {
    // runCli answers usage and configuration errors itself; what reaches here is unexpected.
    io.err(`error: ${(error as Error).message}`);
    process.exit(1);
  },
);
