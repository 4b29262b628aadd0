import { ReceivedEvent } from '../../src/events/receivedEvent';
import { PermanentProjectionError } from '../../src/projection/errors';
import { ProjectionBatcher } from '../../src/projection/ProjectionBatcher';
import { EventOutcome, ProjectionStore } from '../../src/projection/ProjectionStore';
import { receivedEvent, uuid } from '../../testkit/paymentEvents';
import { prismaDatabaseError } from '../support/builders';

type Behaviour = (eventIds: string[]) => Map<string, EventOutcome> | Promise<Map<string, EventOutcome>>;

/** Stands in for ProjectionStore: records every batch it is given and answers with `behaviour`. */
class FakeStore {
  readonly batches: string[][] = [];

  constructor(private readonly behaviour: Behaviour = (ids) => new Map(ids.map((id) => [id, 'applied']))) {}

  async projectBatch(received: ReceivedEvent[]): Promise<Map<string, EventOutcome>> {
    const ids = received.map(({ event }) => event.id);
    this.batches.push(ids);
    return this.behaviour(ids);
  }
}

function batcherWith(store: FakeStore, maxSize: number, maxWaitMs: number): ProjectionBatcher {
  return new ProjectionBatcher(store as unknown as ProjectionStore, maxSize, maxWaitMs);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A store that fails every batch containing `badId` with `error`, and applies every other batch. */
function failingFor(badId: string, error: unknown): Behaviour {
  return (ids) => {
    if (ids.includes(badId)) throw error;
    return new Map(ids.map((id) => [id, 'applied']));
  };
}

describe('ProjectionBatcher', () => {
  it('writes events handed over together as one batch and resolves each with its own outcome', async () => {
    const outcomes: Record<string, EventOutcome> = { [uuid(1)]: 'applied', [uuid(2)]: 'superseded', [uuid(3)]: 'duplicate' };
    const store = new FakeStore((ids) => new Map(ids.map((id) => [id, outcomes[id]])));
    const batcher = batcherWith(store, 10, 5);

    const results = await Promise.all([1, 2, 3].map((n) => batcher.project(receivedEvent(n))));

    expect(results).toEqual(['applied', 'superseded', 'duplicate']);
    expect(store.batches).toEqual([[uuid(1), uuid(2), uuid(3)]]);
  });

  it('waits maxWaitMs before writing a batch that is not full', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 100, 30);

    const started = performance.now();
    const result = batcher.project(receivedEvent(1));
    await nextTick();
    expect(store.batches).toEqual([]);

    await expect(result).resolves.toBe('applied');
    expect(performance.now() - started).toBeGreaterThanOrEqual(28);
    expect(store.batches).toEqual([[uuid(1)]]);
  });

  it('counts maxWaitMs from the first event of a batch, not the last', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 100, 30);

    const first = batcher.project(receivedEvent(1));
    await sleep(15);
    const second = batcher.project(receivedEvent(2));
    await first;
    await second;

    expect(store.batches).toEqual([[uuid(1), uuid(2)]]);
  });

  it('writes a full batch immediately without waiting for maxWaitMs', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 3, 60_000);

    const results = [1, 2, 3].map((n) => batcher.project(receivedEvent(n)));
    expect(store.batches).toEqual([[uuid(1), uuid(2), uuid(3)]]);
    await expect(Promise.all(results)).resolves.toEqual(['applied', 'applied', 'applied']);
  });

  it('cuts more events than maxSize into full batches and writes the rest after maxWaitMs', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 2, 5);

    const results = [1, 2, 3, 4, 5].map((n) => batcher.project(receivedEvent(n)));
    expect(store.batches).toEqual([
      [uuid(1), uuid(2)],
      [uuid(3), uuid(4)],
    ]);

    await Promise.all(results);
    expect(store.batches).toEqual([[uuid(1), uuid(2)], [uuid(3), uuid(4)], [uuid(5)]]);
  });

  it('writes every event alone when maxSize is 1', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 1, 60_000);
    await Promise.all([1, 2].map((n) => batcher.project(receivedEvent(n))));
    expect(store.batches).toEqual([[uuid(1)], [uuid(2)]]);
  });

  it('gathers a new batch while an earlier one is still being written', async () => {
    let finishFirst: (outcomes: Map<string, EventOutcome>) => void = () => undefined;
    const store = new FakeStore((ids) =>
      ids.includes(uuid(1)) ? new Promise((resolve) => (finishFirst = resolve)) : new Map(ids.map((id) => [id, 'applied'])),
    );
    const batcher = batcherWith(store, 2, 5);

    const first = [1, 2].map((n) => batcher.project(receivedEvent(n)));
    const later = batcher.project(receivedEvent(3));
    await expect(later).resolves.toBe('applied');
    expect(store.batches).toEqual([[uuid(1), uuid(2)], [uuid(3)]]);

    finishFirst(
      new Map<string, EventOutcome>([
        [uuid(1), 'applied'],
        [uuid(2), 'applied'],
      ]),
    );
    await expect(Promise.all(first)).resolves.toEqual(['applied', 'applied']);
  });

  it('resolves an event the store reports no outcome for as duplicate', async () => {
    const store = new FakeStore(() => new Map([[uuid(1), 'applied']]));
    const batcher = batcherWith(store, 10, 5);

    const results = await Promise.all([1, 2].map((n) => batcher.project(receivedEvent(n))));
    expect(results).toEqual(['applied', 'duplicate']);
  });

  it('resolves the same event handed over twice with the same outcome', async () => {
    const store = new FakeStore();
    const batcher = batcherWith(store, 10, 5);
    const results = await Promise.all([batcher.project(receivedEvent(1)), batcher.project(receivedEvent(1))]);
    expect(results).toEqual(['applied', 'applied']);
    expect(store.batches).toEqual([[uuid(1), uuid(1)]]);
  });

  describe('when the store fails', () => {
    it('rejects every event of the batch with a transient error, without retrying them one by one', async () => {
      const outage = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      const store = new FakeStore(() => {
        throw outage;
      });
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.project(receivedEvent(n))));

      expect(results).toEqual([1, 2, 3].map(() => ({ status: 'rejected', reason: outage })));
      expect(store.batches).toHaveLength(1);
    });

    it.each([
      ['a serialization failure', '40001'],
      ['a lost connection', '08006'],
      ['a lock timeout', '55P03'],
    ])('treats %s (SQLSTATE %s) as transient', async (_description, sqlState) => {
      const error = prismaDatabaseError(sqlState, 'database says no');
      const store = new FakeStore(() => {
        throw error;
      });
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2].map((n) => batcher.project(receivedEvent(n))));

      expect(results.map((result) => result.status === 'rejected' && result.reason)).toEqual([error, error]);
      expect(store.batches).toHaveLength(1);
    });

    it('retries each event alone after a permanent database error, so that only the bad event fails', async () => {
      const bad = uuid(2);
      const store = new FakeStore(failingFor(bad, prismaDatabaseError('22P02', 'invalid input syntax for type numeric')));
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.project(receivedEvent(n))));

      expect(results[0]).toEqual({ status: 'fulfilled', value: 'applied' });
      expect(results[2]).toEqual({ status: 'fulfilled', value: 'applied' });
      expect(results[1].status).toBe('rejected');
      const reason = (results[1] as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(PermanentProjectionError);
      expect(reason.name).toBe('PermanentProjectionError');
      expect(reason.message).toBe('invalid input syntax for type numeric');
      expect(store.batches).toEqual([[uuid(1), bad, uuid(3)], [uuid(1)], [bad], [uuid(3)]]);
    });

    it('recognises a constraint violation reported as a plain driver error code (class 23)', async () => {
      const bad = uuid(1);
      const store = new FakeStore(failingFor(bad, Object.assign(new Error('duplicate key value'), { code: '23505' })));
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2].map((n) => batcher.project(receivedEvent(n))));

      expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(PermanentProjectionError);
      expect(results[1]).toEqual({ status: 'fulfilled', value: 'applied' });
    });

    it('rejects every bad event of a batch and resolves the good ones', async () => {
      const badIds = new Set([uuid(1), uuid(3)]);
      const store = new FakeStore((ids) => {
        if (ids.some((id) => badIds.has(id))) throw prismaDatabaseError('22003', 'numeric field overflow');
        return new Map(ids.map((id) => [id, 'applied']));
      });
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.project(receivedEvent(n))));

      expect(results.map((result) => (result.status === 'fulfilled' ? result.value : result.reason.constructor.name))).toEqual([
        'PermanentProjectionError',
        'applied',
        'PermanentProjectionError',
        'applied',
      ]);
    });

    it('rejects a single event with a permanent error at once, without another attempt', async () => {
      const store = new FakeStore(failingFor(uuid(1), prismaDatabaseError('23502', 'null value in column')));
      const batcher = batcherWith(store, 10, 5);

      await expect(batcher.project(receivedEvent(1))).rejects.toBeInstanceOf(PermanentProjectionError);
      expect(store.batches).toEqual([[uuid(1)]]);
    });

    it('rejects an event with a transient error when the store goes down while events are retried alone', async () => {
      const outage = new Error('connection terminated');
      const store = new FakeStore((ids) => {
        if (ids.length > 1) throw prismaDatabaseError('22P02', 'bad data somewhere');
        if (ids[0] === uuid(2)) throw outage;
        return new Map([[ids[0], 'applied']]);
      });
      const batcher = batcherWith(store, 10, 5);

      const results = await Promise.allSettled([1, 2, 3].map((n) => batcher.project(receivedEvent(n))));

      expect(results).toEqual([
        { status: 'fulfilled', value: 'applied' },
        { status: 'rejected', reason: outage },
        { status: 'fulfilled', value: 'applied' },
      ]);
    });
  });
});
