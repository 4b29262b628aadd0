import { jsonText, quarantineId, quarantineQuery } from '../admin/adminSchemas';
import { QuarantineReprocessor } from '../admin/QuarantineReprocessor';
import { Config } from '../config/config';
import { QuarantineListing, QuarantineStore } from '../quarantine/QuarantineStore';
import { CliValues } from './cliOptions';
import { CliIo, EXIT } from './CliIo';
import { Logger } from '../logging/logger';
import { withDatabase, withIngest } from './cliResources';
import { truncated } from './formatTable';
import { parsedOrUsage, singleArgument, UsageError } from './UsageError';

/** `quarantine list|show|reprocess`: authentic content that could not be used. */
export async function quarantineCommand(
  config: Config,
  subcommand: string | undefined,
  args: string[],
  values: CliValues,
  io: CliIo,
  logger: Logger,
): Promise<number> {
  switch (subcommand) {
    case 'list': {
      const query = parsedOrUsage(quarantineQuery, { limit: values.limit, offset: values.offset }, 'quarantine list');
      const rows = await withDatabase(config, ({ prisma }) => new QuarantineStore(prisma).list(query.limit, query.offset));
      if (values.json) {
        io.out(jsonText(rows, 2));
        return EXIT.ok;
      }
      for (const row of rows) io.out(`${describe(row)}\n  content: ${truncated(row.content, 300)}\n`);
      io.out(`${rows.length} quarantined payload(s) shown`);
      return EXIT.ok;
    }
    case 'show': {
      const id = parsedOrUsage(quarantineId, singleArgument(args, 'quarantine show', 'id'), 'id');
      const row = await withDatabase(config, ({ prisma }) => new QuarantineStore(prisma).get(id));
      if (row === undefined) return notFound(io, id);
      io.out(values.json ? jsonText(row, 2) : `${describe(row)}\n\n${row.content}`);
      return EXIT.ok;
    }
    case 'reprocess': {
      const id = parsedOrUsage(quarantineId, singleArgument(args, 'quarantine reprocess', 'id'), 'id');
      const result = await withIngest(config, logger, ({ database, ingestor }) => new QuarantineReprocessor(new QuarantineStore(database.prisma), ingestor).reprocess(id));
      if (result === undefined) return notFound(io, id);
      const { accepted, duplicate, ignored, quarantined } = result;
      io.out(values.json ? jsonText(result, 2) : `#${id} reprocessed as ${result.ranAs === 'body' ? 'a whole body' : 'one event'}: accepted ${accepted}, duplicate ${duplicate}, ignored ${ignored}, quarantined ${quarantined}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown quarantine command: ${subcommand ?? '(none)'}`);
  }
}

function describe(row: QuarantineListing): string {
  const lines = [
    `#${row.id}  ${row.receivedAt.toISOString()}  request ${row.requestId}  ${row.eventType ?? '-'} ${row.eventId ?? ''}`.trimEnd(),
    `  reason:  ${row.reason}`,
  ];
  if (row.reprocessedAt !== null) lines.push(`  reprocessed: ${row.reprocessedAt.toISOString()} ${row.reprocessOutcome ?? ''}`.trimEnd());
  return lines.join('\n');
}

function notFound(io: CliIo, id: bigint): number {
  io.err(`no quarantined payload with id ${id}`);
  return EXIT.notFound;
}
