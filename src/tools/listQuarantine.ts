import { ConfigError, loadConfig } from '../config/config';
import { createPrismaClient } from '../database/prismaClient';
import { QuarantineStore } from '../quarantine/QuarantineStore';
import { parseCommandLine, usageError } from './commandLine';

const USAGE = `Usage: npm run quarantine -- [--limit N] [--json]

Lists the newest quarantined payloads: authentic webhook content that could not be used
(not JSON, not a batch, an unknown WITHDRAWAL.* or DIRECT_DEBIT.* type, a schema violation).
Reads DATABASE_URL like the service. Exit code 0, 1 on a database error, 2 on a usage error.`;

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommandLine(USAGE, {
    args: argv,
    options: { limit: { type: 'string', default: '20' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) return usageError(USAGE, `--limit must be a whole number above 0, not ${values.limit}`);
  const config = loadConfig();
  const prisma = createPrismaClient(config.database.url, 1);
  try {
    const rows = await new QuarantineStore(prisma).list(limit);
    if (values.json) {
      console.log(JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? value.toString() : value), 2));
    } else {
      for (const row of rows) {
        console.log(`#${row.id}  ${row.receivedAt.toISOString()}  request ${row.requestId}  ${row.eventType ?? '-'} ${row.eventId ?? ''}`);
        console.log(`  reason:  ${row.reason}`);
        console.log(`  content: ${row.content.length > 300 ? `${row.content.slice(0, 300)}…` : row.content}\n`);
      }
      console.log(`${rows.length} quarantined payload(s) shown`);
    }
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : `error: ${(error as Error).message}`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
