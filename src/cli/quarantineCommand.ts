import { QuarantinedPayloadNotFoundError } from '../operations/errors';
import { quarantineId, quarantineQuery } from '../operations/operationInputs';
import { QuarantineReprocessor } from '../operations/QuarantineReprocessor';
import { QuarantineListing, QuarantineStore } from '../quarantine/QuarantineStore';
import { jsonText } from '../shared/jsonText';
import { openDeliveryReceiver } from '../wiring/deliveryReceiver';
import { COMMAND_POOL_SIZE, migrateIfConfigured, openDatabase, openReadyEventsQueue } from '../wiring/infrastructure';
import { cliCommand, CommandSetup } from './CliCommand';
import { EXIT } from './CliIo';
import { truncated } from './formatTable';
import { parsedOrUsage, singleArgument } from './arguments';
import { UsageError } from './errors';

interface QuarantineOperations {
  store: QuarantineStore;
  /** Reprocessing receives content like a delivery, so it also needs Redis: opened only for it. */
  reprocessor(): Promise<QuarantineReprocessor>;
}

/** What the quarantine commands use: the migrated database, and for reprocess the receive use case on the events queue. */
async function wireQuarantine({ config, logger, resources }: CommandSetup): Promise<QuarantineOperations> {
  await migrateIfConfigured(config.database, logger);
  const database = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  const store = new QuarantineStore(database.prisma);
  return {
    store,
    async reprocessor() {
      const events = await openReadyEventsQueue(config, resources, logger);
      // Closing it when the command ends queues the jobs of what was received.
      const receiver = openDeliveryReceiver({ pool: database.pool, events, timeoutMs: config.ingest.timeoutMs, resources, logger });
      return new QuarantineReprocessor(store, receiver);
    },
  };
}

/** `quarantine list|show|reprocess`: authentic content that could not be used. */
export const quarantineCommand = cliCommand(wireQuarantine, async ({ subcommand, args, values, io, operations }) => {
  switch (subcommand) {
    case 'list': {
      const query = parsedOrUsage(quarantineQuery, { limit: values.limit, offset: values.offset }, 'quarantine list');
      const rows = await (await operations()).store.list(query.limit, query.offset);
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
      const row = await (await operations()).store.get(id);
      if (row === undefined) throw new QuarantinedPayloadNotFoundError(id);
      io.out(values.json ? jsonText(row, 2) : `${describe(row)}\n\n${row.content}`);
      return EXIT.ok;
    }
    case 'reprocess': {
      const id = parsedOrUsage(quarantineId, singleArgument(args, 'quarantine reprocess', 'id'), 'id');
      const reprocessor = await (await operations()).reprocessor();
      const result = await reprocessor.reprocess(id);
      const { accepted, duplicate, ignored, quarantined } = result;
      io.out(values.json ? jsonText(result, 2) : `#${id} reprocessed as ${result.ranAs === 'body' ? 'a whole body' : 'one event'}: accepted ${accepted}, duplicate ${duplicate}, ignored ${ignored}, quarantined ${quarantined}`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown quarantine command: ${subcommand ?? '(none)'}`);
  }
});

function describe(row: QuarantineListing): string {
  const lines = [
    `#${row.id}  ${row.receivedAt.toISOString()}  request ${row.requestId}  ${row.eventType ?? '-'} ${row.eventId ?? ''}`.trimEnd(),
    `  reason:  ${row.reason}`,
  ];
  if (row.reprocessedAt !== null) lines.push(`  reprocessed: ${row.reprocessedAt.toISOString()} ${row.reprocessOutcome ?? ''}`.trimEnd());
  return lines.join('\n');
}
