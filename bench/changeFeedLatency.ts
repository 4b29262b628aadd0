import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { ServiceProcess } from '../testkit/ServiceProcess';
import { ResultRow, TargetCheck, formatNumber } from './report';
import { commitStatusChange, epochMs, latencyFigures } from './statusChange';

const CHANGES = 200;
const TARGET_P99_MS = 100;

/**
 * A consumer long-polls GET /v1/changes on the api process while status changes commit one at a
 * time, each as the projection commits one (a history row and its NOTIFY in one transaction).
 * Measures from each COMMIT's return to the consumer's answer holding the change.
 */
export async function changeFeedLatency(api: ServiceProcess, pool: Pool, token: string): Promise<{ row: ResultRow; target: TargetCheck }> {
  const base = `http://127.0.0.1:${api.port}/v1/changes`;
  const headers = { authorization: `Bearer ${token}` };
  let cursor = ((await (await fetch(`${base}?from=now`, { headers })).json()) as { next: string }).next;
  const latenciesMs: number[] = [];
  for (let change = 0; change < CHANGES; change += 1) {
    const answer = fetch(`${base}?after=${cursor}&wait=10`, { headers }).then(async (response) => ({ body: (await response.json()) as { changes: unknown[]; next: string }, at: epochMs() }));
    // Let the request arrive and start waiting, as a consumer's next poll would.
    await sleep(20);
    const committedAt = await commitStatusChange(pool);
    const { body, at } = await answer;
    if (body.changes.length !== 1) throw new Error(`change feed: expected 1 change, got ${body.changes.length}`);
    latenciesMs.push(at - committedAt);
    cursor = body.next;
  }
  const figures = latencyFigures(latenciesMs);
  const { p99Ms } = figures;
  return {
    row: {
      scenario: 'change feed: commit to long-poll answer',
      ...figures,
      peakRssMb: api.peakRssMb(),
      sample: `${CHANGES} changes committed one at a time, each awaited by a waiting GET /v1/changes`,
    },
    target: { name: `change feed: commit to answer p99 <= ${TARGET_P99_MS} ms`, value: formatNumber(p99Ms, 1), met: p99Ms <= TARGET_P99_MS },
  };
}
