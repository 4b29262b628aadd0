import { HttpInstruments } from '../http/httpMetrics';
import { InboxBacklog } from '../inbox/InboxBacklog';
import { InboxSweeperInstruments, registerInboxBacklogMetrics } from '../inbox/inboxMetrics';
import { IngestInstruments } from '../ingest/ingestMetrics';
import { DependencyErrors } from '../metrics/DependencyErrors';
import { MetricsRegistry, MetricsRegistryOptions } from '../metrics/MetricsRegistry';
import { ProjectionInstruments } from '../projection/projectionMetrics';
import { PushBacklog } from '../push/PushBacklog';
import { PushInstruments } from '../push/pushMetrics';
import { registerQuarantineMetrics } from '../quarantine/quarantineMetrics';
import { QuarantineBacklog } from '../quarantine/QuarantineBacklog';
import { QueueInstruments } from '../queue/queueMetrics';
import { ReconciliationInstruments } from '../reconciliation/reconciliationMetrics';

/** Where the backlog gauges read at scrape time: the tables every process shares. */
export interface BacklogSources {
  inbox: Pick<InboxBacklog, 'oldestUnprojectedSeconds'>;
  quarantine: Pick<QuarantineBacklog, 'pendingCount'>;
  push: Pick<PushBacklog, 'subscriptionBacklogs'>;
}

/**
 * The service's instruments on one registry (one per service: tests run several in one process).
 * Each module declares its own; every service process registers them all, whichever role it runs,
 * so that a scrape of any pod shows the same series, at 0 where the role records none: the
 * dashboard and the alerts rely on it. Each role takes the instruments it records.
 */
export interface ServiceMetrics {
  registry: MetricsRegistry;
  dependencyErrors: DependencyErrors;
  http: HttpInstruments;
  ingest: IngestInstruments;
  queues: QueueInstruments;
  inboxSweeper: InboxSweeperInstruments;
  projection: ProjectionInstruments;
  reconciliation: ReconciliationInstruments;
  push: PushInstruments;
}

export function registerServiceMetrics(backlogs: BacklogSources, options: MetricsRegistryOptions = {}): ServiceMetrics {
  const registry = new MetricsRegistry(options);
  const dependencyErrors = new DependencyErrors(registry);
  registerInboxBacklogMetrics(registry, backlogs.inbox);
  registerQuarantineMetrics(registry, backlogs.quarantine);
  return {
    registry,
    dependencyErrors,
    http: new HttpInstruments(registry),
    ingest: new IngestInstruments(registry, dependencyErrors),
    queues: new QueueInstruments(registry),
    inboxSweeper: new InboxSweeperInstruments(registry),
    projection: new ProjectionInstruments(registry, dependencyErrors),
    reconciliation: new ReconciliationInstruments(registry),
    push: new PushInstruments(registry, backlogs.push),
  };
}
