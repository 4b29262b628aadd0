import { quarantineId, quarantineQuery } from '../operations/operationInputs';
import { QuarantineListing } from '../quarantine/QuarantineStore';
import { jsonText } from '../shared/jsonText';
import { CliCommand } from './CliCommand';
import { CliIo, EXIT } from './CliIo';
import { truncated } from './formatTable';
import { parsedOrUsage, singleArgument } from './arguments';
import { UsageError } from './errors';

/** `quarantine list|show|reprocess`: authentic content that could not be used. */
export const quarantineCommand: CliCommand = async ({ subcommand, args, values, io, migrated }) => {
  switch (subcommand) {
    case 'list': {
      const query = parsedOrUsage(quarantineQuery, { limit: values.limit, offset: values.offset }, 'quarantine list');
      const rows = await (await migrated()).quarantineStore.list(query.limit, query.offset);
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
      const row = await (await migrated()).quarantineStore.get(id);
      if (row === undefined) return notFound(io, id);
      io.out(values.json ? jsonText(row, 2) : `${describe(row)}\n\n${row.content}`);
      return EXIT.ok;
    }
    case 'reprocess': {
      const id = parsedOrUsage(quarantineId, singleArgument(args, 'quarantine reprocess', 'id'), 'id');
      const components = await migrated();
      await components.readyProjectionJobs();
      // Its jobs are queued before the command ends: closing the components drains the ingest.
      const result = await components.quarantineReprocessor.reprocess(id);
      if (result === undefined) return notFound(io, id);
      const { accepted, duplicate, ignored, quarantined } = result;
      io.out(values.json ? jsonText(result, 2) : `#${id} reprocessed as ${result.ranAs === 'body' ? 'a whole body' : 'one event'}: accepted ${accepted}, duplicate ${duplicate}, ignored ${ignored}, quarantined ${quarantined}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown quarantine command: ${subcommand ?? '(none)'}`);
  }
};

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
