import { Counter } from 'prom-client';
import { PAYMENT_EVENT_TYPES, PAYMENT_KINDS } from '../events/upvestEvents';
import { DependencyErrors } from '../metrics/DependencyErrors';
import { MetricsRegistry } from '../metrics/MetricsRegistry';

/** How an event of an acknowledged delivery ended; the answer counts each. */
export type IngestOutcome = 'accepted' | 'duplicate' | 'ignored' | 'quarantined';

/** Told, once a delivery is committed, how many of its events of each type ended how. */
export interface IngestMetrics {
  /** `type` as sent, undefined for content without one (a body that is not a batch, an event without a type). */
  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void;
  /** A copy of an event that arrived before with other content was quarantined (once per distinct copy). */
  conflictingDuplicate(type: string): void;
  /** Postgres did not commit a delivery: it was answered 503. */
  dependencyError(dependency: 'postgres'): void;
}

/** The ingest's instruments: the events of acknowledged deliveries by type and outcome, and conflicting copies. */
export class IngestInstruments implements IngestMetrics {
  private readonly webhookEventsTotal: Counter<'type' | 'outcome'>;
  private readonly conflictingDuplicates: Counter<'type'>;

  constructor(
    metrics: MetricsRegistry,
    private readonly dependencyErrors: DependencyErrors,
  ) {
    this.webhookEventsTotal = metrics.counter(
      'upvest_webhook_events_total',
      'Events of acknowledged webhook deliveries by event type and outcome (accepted, duplicate, ignored, quarantined). Ignored types are counted by their prefix (USER), unusable ones as "unknown".',
      ['type', 'outcome'],
    );
    this.conflictingDuplicates = metrics.counter(
      'upvest_webhook_conflicting_duplicates_total',
      'Copies of an event id with other content than the version received first (which stands), quarantined once per distinct copy, by event type.',
      ['type'],
    );
  }

  webhookEvents(type: string | undefined, outcome: IngestOutcome, count: number): void {
    this.webhookEventsTotal.inc({ type: eventTypeLabel(type, outcome), outcome }, count);
  }

  conflictingDuplicate(type: string): void {
    this.conflictingDuplicates.inc({ type: eventTypeLabel(type, 'quarantined') });
  }

  dependencyError(dependency: 'postgres'): void {
    this.dependencyErrors.dependencyError(dependency);
  }
}

/** Label of events without a usable type. */
const UNKNOWN_TYPE = 'unknown';

const TYPE_PREFIX = /^[A-Za-z0-9_]{1,40}$/;

/**
 * The `type` label of upvest_webhook_events_total, bounded whatever the provider sends: the
 * withdrawal and direct-debit types as they are, foreign types by their prefix (`USER.CREATED`
 * → `USER`), and anything else as `unknown`.
 */
export function eventTypeLabel(type: string | undefined, outcome: IngestOutcome): string {
  if (type === undefined) return UNKNOWN_TYPE;
  if (PAYMENT_EVENT_TYPES.has(type)) return type;
  const dot = type.indexOf('.');
  const prefix = dot === -1 ? type : type.slice(0, dot);
  if (outcome === 'quarantined') {
    // E.g. WITHDRAWAL.REFUNDED: a payment kind with a status we do not know.
    return (PAYMENT_KINDS as readonly string[]).includes(prefix) ? prefix : UNKNOWN_TYPE;
  }
  return TYPE_PREFIX.test(prefix) ? prefix : UNKNOWN_TYPE;
}
