import { paymentTarget } from '../operations/operationInputs';
import { jsonText } from '../shared/jsonText';
import { CliCommand } from './CliCommand';
import { EXIT } from './CliIo';
import { parsedOrUsage } from './arguments';
import { UsageError } from './errors';

/** `payments reproject <withdrawals|direct-debits> <id>`: rebuilds a payment's row from its event log. */
export const paymentsCommand: CliCommand = async ({ subcommand, args, io, migrated }) => {
  if (subcommand !== 'reproject') throw new UsageError(`unknown payments command: ${subcommand ?? '(none)'}`);
  if (args.length !== 2) throw new UsageError('payments reproject needs a kind (withdrawals or direct-debits) and a payment id');
  const target = parsedOrUsage(paymentTarget, { kind: args[0], id: args[1] }, 'payments reproject');
  const payment = await (await migrated()).paymentReprojector.reproject(target.kind, target.id);
  if (payment === undefined) {
    io.err(`no events of ${args[0]} ${target.id} in webhook_events; nothing rebuilt`);
    return EXIT.notFound;
  }
  io.out(jsonText(payment, 2));
  return EXIT.ok;
};
