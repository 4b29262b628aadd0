import { Delivery } from '../../src/inbox/delivery';
import { InboxCommitter } from '../../src/inbox/InboxCommitter';
import { InboxWriter, ReceivedBatch } from '../../src/inbox/InboxWriter';
import { classifyBatch } from '../../src/ingest/classifyBatch';
import { createLogger } from '../../src/logging/logger';
import { JobEvent } from '../../src/queue/jobs';
import { ProjectionJobs } from '../../src/queue/ProjectionJobs';
import { batchBody, uuid, withdrawalEvent } from '../../testkit/paymentEvents';

/** An inbox that holds each statement until the test releases it, and records what each carried. */
class HeldInbox {
  readonly statements: Array<{ deliveries: Delivery[]; jobId: string; release(error?: Error): void }> = [];

  receive(deliveries: Delivery[], jobId: string): Promise<ReceivedBatch[]> {
    return new Promise((resolve, reject) => {
      this.statements.push({
        deliveries,
        jobId,
        release: (error) => {
          if (error !== undefined) reject(error);
          else resolve(deliveries.map(({ batch }) => ({ added: new Set(batch.events.map(({ event }) => event.id)), quarantined: new Set() })));
        },
      });
    });
  }
}

function recordingJobs(failing = false): ProjectionJobs & { added: Array<[string, JobEvent[]]> } {
  const added: Array<[string, JobEvent[]]> = [];
  return {
    added,
    addBatch: async (jobId: string, events: JobEvent[]) => {
      if (failing) throw new Error('Redis is not connected (reconnecting)');
      added.push([jobId, events]);
    },
  } as unknown as ProjectionJobs & { added: Array<[string, JobEvent[]]> };
}

const logger = createLogger('error', true);
const delivery = (n: number): Delivery => ({ batch: classifyBatch(batchBody(withdrawalEvent({ id: uuid(n) }))), requestId: `request-${n}`, receivedAt: new Date() });
const settle = () => new Promise((resolve) => setImmediate(resolve));
const NO_DEADLINE = Number.MAX_SAFE_INTEGER;

describe('InboxCommitter', () => {
  it('commits a delivery at once when nothing is in flight, and deliveries that arrive meanwhile together in the next statement', async () => {
    const inbox = new HeldInbox();
    const jobs = recordingJobs();
    const committer = new InboxCommitter(inbox as unknown as InboxWriter, jobs, { logger });

    const commits = [1, 2, 3, 4, 5].map((n) => committer.commit(delivery(n), NO_DEADLINE));
    await settle();
    // Two statements in flight: the first two deliveries alone, the other three wait.
    expect(inbox.statements.map(({ deliveries }) => deliveries.map(({ requestId }) => requestId))).toEqual([['request-1'], ['request-2']]);
    inbox.statements[0].release();
    await settle();
    expect(inbox.statements[2].deliveries.map(({ requestId }) => requestId)).toEqual(['request-3', 'request-4', 'request-5']);
    inbox.statements[1].release();
    inbox.statements[2].release();
    await Promise.all(commits);
    await committer.drain();

    // One job per statement, named on the rows the statement wrote, with the events it added.
    expect(jobs.added.map(([jobId, events]) => [jobId, events.map(({ id }) => id)])).toEqual([
      [inbox.statements[0].jobId, [uuid(1)]],
      [inbox.statements[1].jobId, [uuid(2)]],
      [inbox.statements[2].jobId, [uuid(3), uuid(4), uuid(5)]],
    ]);
  });

  it('commits each delivery of a refused group alone, so that only the refused one fails', async () => {
    const inbox = new HeldInbox();
    const committer = new InboxCommitter(inbox as unknown as InboxWriter, recordingJobs(), { logger });
    const blockers = [1, 2].map((n) => committer.commit(delivery(n), NO_DEADLINE));
    const grouped = [3, 4].map((n) => committer.commit(delivery(n), NO_DEADLINE).then((received) => received.added, (error: Error) => error.message));
    await settle();
    inbox.statements[0].release();
    await settle();

    const refused = Object.assign(new Error('stack depth limit exceeded'), { code: '54001' });
    inbox.statements[2].release(refused);
    await settle();
    inbox.statements[3].release(refused);
    await settle();
    inbox.statements[4].release();
    inbox.statements[1].release();

    expect(await Promise.all(grouped)).toEqual(['stack depth limit exceeded', new Set([uuid(4)])]);
    await Promise.all(blockers);
  });

  it('drops a delivery whose deadline passed while it waited, instead of writing it', async () => {
    const inbox = new HeldInbox();
    const committer = new InboxCommitter(inbox as unknown as InboxWriter, recordingJobs(), { logger });
    const blockers = [1, 2].map((n) => committer.commit(delivery(n), NO_DEADLINE));
    const late = committer.commit(delivery(3), Date.now() - 1).then(
      () => 'written',
      (error: Error) => error.message,
    );
    const onTime = committer.commit(delivery(4), NO_DEADLINE);
    await settle();

    inbox.statements[0].release();
    await settle();

    expect(await late).toBe('not committed before the deadline');
    expect(inbox.statements[2].deliveries.map(({ requestId }) => requestId)).toEqual(['request-4']);
    inbox.statements[1].release();
    inbox.statements[2].release();
    await Promise.all([...blockers, onTime]);
  });

  it('answers although Redis does not take the job, and says so', async () => {
    const inbox = new HeldInbox();
    let notQueued = 0;
    const committer = new InboxCommitter(inbox as unknown as InboxWriter, recordingJobs(true), { logger, onJobNotQueued: () => (notQueued += 1) });

    const commit = committer.commit(delivery(1), NO_DEADLINE);
    await settle();
    inbox.statements[0].release();

    await expect(commit).resolves.toMatchObject({ added: new Set([uuid(1)]) });
    await committer.drain();
    expect(notQueued).toBe(1);
  });
});
