import { DeliveryReceiver, IngestCounts } from '../ingest/DeliveryReceiver';
import { QuarantinedPayload, QuarantineStore } from '../quarantine/QuarantineStore';
import { QuarantinedPayloadNotFoundError } from './errors';

export interface ReprocessResult extends IngestCounts {
  id: string;
  /** What was run through the ingest: the stored body as is, or one stored event wrapped as a batch. */
  ranAs: 'body' | 'event';
}

/**
 * Runs quarantined content through the webhook's receive use case again, after a fix (a new event
 * type or schema in the code, or content corrected by hand). What is valid now is received like a
 * fresh delivery (committed to the inbox, then queued), so event-id deduplication still applies
 * and reprocessing twice is harmless; what is still unusable is quarantined again (as the same
 * row if the content is unchanged).
 */
export class QuarantineReprocessor {
  constructor(
    private readonly store: QuarantineStore,
    private readonly receiver: DeliveryReceiver,
  ) {}

  /** Throws QuarantinedPayloadNotFoundError when there is no such quarantined payload. */
  async reprocess(id: bigint): Promise<ReprocessResult> {
    const payload = await this.store.payload(id);
    if (payload === undefined) throw new QuarantinedPayloadNotFoundError(id);
    const ranAs = isWholeBody(payload.content) ? 'body' : 'event';
    const body = ranAs === 'body' ? payload.content : Buffer.concat([Buffer.from('{"payload":['), payload.content, Buffer.from(']}')]);
    // The original request id and time: the events were received then, and logs can be followed back.
    const { counts } = await this.receiver.receive(body, { requestId: payload.requestId, receivedAt: payload.receivedAt });
    await this.store.markReprocessed(id, JSON.stringify(counts));
    return { id: id.toString(), ranAs, ...counts };
  }
}

/**
 * Whole request bodies are quarantined when they are not JSON or not a batch; single events are
 * stored as their own JSON. So: content that is not JSON, or a JSON object with a `payload`
 * member, is a body; any other JSON is one event.
 */
function isWholeBody(content: QuarantinedPayload['content']): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return true;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'payload' in parsed;
}
