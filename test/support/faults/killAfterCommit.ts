import { InboxStore } from '../../../src/inbox/InboxStore';

/**
 * Preloaded into a service process (node --import) by the test of a crash between committing a
 * delivery and queueing its job: the process dies with SIGKILL the moment the inbox committed.
 */
const receive = InboxStore.prototype.receive;
InboxStore.prototype.receive = async function receiveThenDie(this: InboxStore, ...args: Parameters<InboxStore['receive']>) {
  const received = await receive.apply(this, args);
  process.kill(process.pid, 'SIGKILL');
  return received;
};
