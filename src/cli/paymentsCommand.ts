import { jsonText, paymentTarget } from '../admin/adminSchemas';
import { reprojectPayment } from '../admin/reprojectPayment';
import { Config } from '../config/config';
import { CliIo, EXIT } from './CliIo';
import { withDatabase } from './cliResources';
import { UsageError, parsedOrUsage } from './UsageError';

/** `payments reproject <withdrawals|direct-debits> <id>`: rebuilds a payment's row from its event log. */
export async function paymentsCommand(config: Config, subcommand: string | undefined, args: string[], io: CliIo): Promise<number> {
  if (subcommand !== 'reproject') throw new UsageError(`unknown payments command: ${subcommand ?? '(none)'}`);
  if (args.length !== 2) throw new UsageError('payments reproject needs a kind (withdrawals or direct-debits) and a payment id');
  const target = parsedOrUsage(paymentTarget, { kind: args[0], id: args[1] }, 'payments reproject');
  const payment = await withDatabase(config, ({ prisma }) => reprojectPayment(prisma, target.kind, target.id));
  if (payment === undefined) {
    io.err(`no events of ${args[0]} ${target.id} in webhook_events; nothing rebuilt`);
    return EXIT.notFound;
  }
  io.out(jsonText(payment, 2));
  return EXIT.ok;
}
