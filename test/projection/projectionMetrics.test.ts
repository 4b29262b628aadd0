import { ReceivedEvent } from '../../src/events/receivedEvent';
import { ProjectionBatcher } from '../../src/projection/ProjectionBatcher';
import { ProjectionBatchMetrics } from '../../src/projection/projectionMetrics';
import { EventOutcome, ProjectionStore } from '../../src/projection/ProjectionStore';
import { receivedEvent, uuid } from '../../testkit/paymentEvents';
import { prismaDatabaseError } from '../support/builders';

class RecordingMetrics implements ProjectionBatchMetrics {
  readonly lags: number[] = [];
  dependencyErrors = 0;

  projectionLagSeconds(seconds: number): void {
    this.lags.push(seconds);
  }

  dependencyError(): void {
    this.dependencyErrors += 1;
  }
}

function storeAnswering(behaviour: (ids: string[]) => Map<string, EventOutcome>): ProjectionStore {
  return { projectBatch: async (batch: ReceivedEvent[]) => behaviour(batch.map(({ event }) => event.id)) } as unknown as ProjectionStore;
}

const secondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

describe('ProjectionBatcher metrics', () => {
  it('observes the lag from created_at to the commit once per applied or superseded event, not for duplicates', async () => {
    const outcomes: Record<string, EventOutcome> = { [uuid(1)]: 'applied', [uuid(2)]: 'superseded', [uuid(3)]: 'duplicate' };
    const metrics = new RecordingMetrics();
    const batcher = new ProjectionBatcher(storeAnswering((ids) => new Map(ids.map((id) => [id, outcomes[id]]))), 10, 5, metrics);

    const results = await Promise.all([
      batcher.project(receivedEvent(1, secondsAgo(30))),
      batcher.project(receivedEvent(2, secondsAgo(120))),
      batcher.project(receivedEvent(3, secondsAgo(5))),
      // The same event again in the same batch: written once, observed once.
      batcher.project(receivedEvent(1, secondsAgo(30))),
    ]);

    expect(results).toEqual(['applied', 'superseded', 'duplicate', 'applied']);
    expect(metrics.lags).toHaveLength(2);
    expect(metrics.lags[0]).toBeGreaterThanOrEqual(30);
    expect(metrics.lags[0]).toBeLessThan(32);
    expect(metrics.lags[1]).toBeGreaterThanOrEqual(120);
    expect(metrics.lags[1]).toBeLessThan(122);
  });

  it('reads an event from the future as no lag', async () => {
    const metrics = new RecordingMetrics();
    const batcher = new ProjectionBatcher(storeAnswering((ids) => new Map(ids.map((id) => [id, 'applied']))), 10, 1, metrics);

    await batcher.project(receivedEvent(1, new Date(Date.now() + 60_000).toISOString()));

    expect(metrics.lags).toEqual([0]);
  });

  it('counts a failed transaction once as a Postgres error, however many jobs it fails, and bad data not at all', async () => {
    const metrics = new RecordingMetrics();
    let error: Error = prismaDatabaseError('08006', 'connection failure');
    const batcher = new ProjectionBatcher(
      storeAnswering(() => {
        throw error;
      }),
      10,
      5,
      metrics,
    );

    const failures = await Promise.allSettled([1, 2, 3].map((n) => batcher.project(receivedEvent(n, secondsAgo(1)))));
    expect(failures.map((failure) => failure.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(metrics.dependencyErrors).toBe(1);

    error = prismaDatabaseError('22003', 'numeric field overflow');
    await Promise.allSettled([4, 5].map((n) => batcher.project(receivedEvent(n, secondsAgo(1)))));

    expect(metrics.dependencyErrors).toBe(1);
    expect(metrics.lags).toEqual([]);
  });
});
