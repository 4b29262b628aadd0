import { InboxWriter } from '../../../src/inbox/InboxWriter';

/**
 * Preloaded into a service process (node --import) by the test of a crash between committing a
 * delivery and queueing its job: the process dies with SIGKILL the moment the inbox committed.
 */
const receive = InboxWriter.prototype.receive;
InboxWriter.prototype.receive = async function receiveThenDie(this: InboxWriter, ...args: Parameters<InboxWriter['receive']>) {
  const received = await receive.apply(this, args);
  process.kill(process.pid, 'SIGKILL');
  return received;
};
