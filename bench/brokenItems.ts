import { performance } from 'node:perf_hooks';
import { SigningKey } from '../src/signature';
import { ServiceProcess, STOP_TIMEOUT_MS } from '../testkit/ServiceProcess';
import { ResultRow, TargetCheck, formatNumber } from './report';
import { signedRequest } from './signedRequests';

/** A body the webhook limit takes, of tiny items that claim a projected type but are not events. */
const BODY_BYTES = 5 * 1024 * 1024 - 100;
const DELIVERIES = 5;
const TARGET_MS = 2000;
/** For one body; back to back, bodies add up until V8's next full collection, which then returns it. */
const TARGET_RSS_GROWTH_MB = 100;

/**
 * Delivers 5 MiB bodies of tiny broken items (`{"type":"WITHDRAWAL.NEW","id":"…"}`, about 140,000
 * per body) one at a time to an api process of their own, and measures each answer's time and the
 * process's peak RSS over what it held before, while idle: after the first body, and after all.
 */
export async function brokenItemsScenario(serviceMain: string, environment: NodeJS.ProcessEnv, key: SigningKey, path: string): Promise<{ row: ResultRow; targets: TargetCheck[] }> {
  const item = '{"type":"WITHDRAWAL.NEW","id":"n"}';
  const count = Math.floor(BODY_BYTES / (item.length + 1));
  const request = signedRequest(Buffer.from(`{"payload":[${Array(count).fill(item).join(',')}]}`), key, path);
  const api = await ServiceProcess.start({ name: 'service (api, broken items)', args: [serviceMain], env: environment, until: '/readyz' });
  try {
    const idleRssMb = api.rssMb();
    const timesMs: number[] = [];
    let firstGrowthMb = 0;
    for (let delivery = 0; delivery < DELIVERIES; delivery += 1) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${api.port}${path}`, { method: 'POST', headers: request.headers, body: request.body });
      const answer = (await response.json()) as { quarantined?: number };
      timesMs.push(performance.now() - started);
      if (response.status !== 200 || answer.quarantined !== count) throw new Error(`broken items: answered ${response.status} ${JSON.stringify(answer)}`);
      if (delivery === 0) firstGrowthMb = api.peakRssMb() - idleRssMb;
    }
    api.assertRunning();
    const peakRssMb = api.peakRssMb();
    const growthMb = peakRssMb - idleRssMb;
    const slowestMs = Math.max(...timesMs);
    const sorted = [...timesMs].sort((a, b) => a - b);
    return {
      row: {
        scenario: `${formatNumber(count, 0)} tiny broken items in 5 MiB`,
        eventsPerSecond: (count * DELIVERIES) / (timesMs.reduce((sum, ms) => sum + ms, 0) / 1000),
        p50Ms: sorted[Math.floor(sorted.length / 2)],
        p99Ms: slowestMs,
        peakRssMb,
        sample: `${DELIVERIES} deliveries one at a time; RSS ${formatNumber(idleRssMb, 0)} MB idle, +${formatNumber(firstGrowthMb, 0)} MB after one, +${formatNumber(growthMb, 0)} MB after all`,
      },
      targets: [
        { name: `broken items: slowest answer <= ${TARGET_MS} ms`, value: formatNumber(slowestMs, 0), met: slowestMs <= TARGET_MS },
        { name: `broken items: api RSS growth for one body <= ${TARGET_RSS_GROWTH_MB} MB`, value: formatNumber(firstGrowthMb, 0), met: firstGrowthMb <= TARGET_RSS_GROWTH_MB },
      ],
    };
  } finally {
    await api.stop('SIGTERM', STOP_TIMEOUT_MS);
  }
}
