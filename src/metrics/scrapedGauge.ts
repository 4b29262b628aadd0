import { Gauge } from 'prom-client';
import { MetricsRegistry } from './MetricsRegistry';

/**
 * A gauge without labels whose value is read from its source (Postgres) on each scrape. When the
 * source fails or is late, the series is left out rather than shown stale; without labels,
 * reset() would leave a 0, which would read as "nothing pending".
 */
export function scrapedGauge(metrics: MetricsRegistry, options: { name: string; help: string; source: string; read: () => Promise<number> }): Gauge {
  const gauge: Gauge = new Gauge({
    name: options.name,
    help: options.help,
    registers: [metrics.registry],
    async collect() {
      const value = await metrics.readInTime(options.read(), options.source).catch(() => undefined);
      if (value === undefined) gauge.remove({});
      else gauge.set(value);
    },
  });
  return gauge;
}
