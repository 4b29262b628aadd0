import { PaymentReprojector } from '../operations/PaymentReprojector';
import { paymentTarget } from '../operations/operationInputs';
import { ProjectionStore } from '../projection/ProjectionStore';
import { PaymentReader } from '../readApi/PaymentReader';
import { jsonText } from '../shared/jsonText';
import { COMMAND_POOL_SIZE, migrateIfConfigured, openDatabase } from '../wiring/infrastructure';
import { cliCommand, CommandSetup } from './CliCommand';
import { EXIT } from './CliIo';
import { parsedOrUsage } from './arguments';
import { UsageError } from './errors';

/** What payments reproject uses: the migrated database only. */
async function wireReprojector({ config, logger, resources }: CommandSetup): Promise<PaymentReprojector> {
  await migrateIfConfigured(config.database, logger);
  const { prisma } = openDatabase(config.database.url, COMMAND_POOL_SIZE, resources);
  return new PaymentReprojector(new ProjectionStore(prisma), new PaymentReader(prisma));
}

/** `payments reproject <withdrawals|direct-debits> <id>`: rebuilds a payment's row from its event log. */
export const paymentsCommand = cliCommand(wireReprojector, async ({ subcommand, args, io, operations }) => {
  if (subcommand !== 'reproject') throw new UsageError(`unknown payments command: ${subcommand ?? '(none)'}`);
  if (args.length !== 2) throw new UsageError('payments reproject needs a kind (withdrawals or direct-debits) and a payment id');
  const target = parsedOrUsage(paymentTarget, { kind: args[0], id: args[1] }, 'payments reproject');
  io.out(jsonText(await (await operations()).reproject(target.kind, target.id), 2));
  return EXIT.ok;
});
