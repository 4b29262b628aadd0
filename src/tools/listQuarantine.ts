import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config';
import { createPrismaClient } from '../database/prismaClient';
import { QuarantineStore } from '../quarantine/QuarantineStore';

const USAGE = `Usage: npm run quarantine -- [--limit N] [--json]

Lists the newest quarantined payloads: authentic webhook content that could not be used
(not JSON, not a batch, an unknown WITHDRAWAL.* or DIRECT_DEBIT.* type, a schema violation).
Reads DATABASE_URL like the service. Exit code 0, 1 on a database error, 2 on a usage error.`;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { limit: { type: 'string', default: '20' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const limit = Number(values.limit);
  if (values.help || !Number.isInteger(limit) || limit < 1) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
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
