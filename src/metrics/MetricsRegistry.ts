import { collectDefaultMetrics, Counter, Histogram, LabelValues, Registry } from 'prom-client';
import { withTimeout } from '../shared/withTimeout';
import { ScrapeReadTimeoutError } from './errors';

export interface MetricsRegistryOptions {
  /** Longest wait for one read from Redis or Postgres during a scrape; its series are left out after it. Default 1000 ms. */
  scrapeReadTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop, GC) on the same registry. Default true. */
  defaultMetrics?: boolean;
}

/**
 * The Prometheus registry of one service instance (several services in one process, as in the
 * tests, must not share or clash). Each module declares its own instruments on it, next to the
 * code that records them (e.g. ingest/ingestMetrics.ts); domain classes see them through narrow
 * interfaces and never import prom-client.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly scrapeReadTimeoutMs: number;

  constructor(options: MetricsRegistryOptions = {}) {
    this.scrapeReadTimeoutMs = options.scrapeReadTimeoutMs ?? 1000;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Everything in the Prometheus text format; the gauges read at scrape time are read first. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A counter on this registry. `startAtZero`: label sets whose series exist from the start, at 0,
   * so that the alerts' rate() and increase() over them work before the first event.
   */
  counter<Label extends string = never>(name: string, help: string, labelNames: readonly Label[] = [], startAtZero: Array<LabelValues<Label>> = []): Counter<Label> {
    const counter = new Counter({ name, help, labelNames, registers: [this.registry] });
    for (const labels of startAtZero) counter.inc(labels, 0);
    return counter;
  }

  /** A histogram on this registry. */
  histogram<Label extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly Label[] = []): Histogram<Label> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }

  /** A read of a gauge at scrape time, given up after the scrape read timeout so that a slow dependency cannot hang the scrape. */
  readInTime<T>(work: Promise<T>, source: string): Promise<T> {
    return withTimeout(work, this.scrapeReadTimeoutMs, () => new ScrapeReadTimeoutError(source, this.scrapeReadTimeoutMs));
  }
}
