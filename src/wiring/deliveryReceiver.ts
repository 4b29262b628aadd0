import { Pool } from 'pg';
import { InboxCommitter } from '../inbox/InboxCommitter';
import { InboxWriter } from '../inbox/InboxWriter';
import { DeliveryReceiver } from '../ingest/DeliveryReceiver';
import { IngestMetrics } from '../ingest/ingestMetrics';
import { Logger } from '../logging/logger';
import { ProjectionJobs } from '../queue/ProjectionJobs';
import { OpenResources } from './OpenResources';

export interface DeliveryReceiverSetup {
  pool: Pool;
  events: ProjectionJobs;
  /** INGEST_TIMEOUT_MS. */
  timeoutMs: number;
  resources: OpenResources;
  logger: Logger;
  metrics?: IngestMetrics;
  /** Redis did not take a job; the inbox sweeper will queue its events. */
  onJobNotQueued?(): void;
}

/**
 * The receive use case with its inbox writer and group committer, for the webhook endpoint and
 * for quarantine reprocessing. On close, the jobs of the content answered last are queued before
 * Redis is let go.
 */
export function openDeliveryReceiver(setup: DeliveryReceiverSetup): DeliveryReceiver {
  const inbox = new InboxWriter(setup.pool);
  const committer = new InboxCommitter(inbox, setup.events, { logger: setup.logger, onJobNotQueued: setup.onJobNotQueued });
  setup.resources.add('inbox committer', committer, (opened) => opened.drain());
  return new DeliveryReceiver(committer, inbox, { timeoutMs: setup.timeoutMs, metrics: setup.metrics });
}
