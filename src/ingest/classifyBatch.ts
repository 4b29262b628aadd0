import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { eventKey, PAYMENT_EVENT_TYPES, PaymentEvent, paymentKindOf, schemaFor } from '../events/upvestEvents';
import { describeZodIssues } from '../shared/describeZodIssues';

/** Authentic content that cannot be projected, kept for an operator instead of being rejected. */
export interface QuarantineItem {
  reason: string;
  content: Buffer;
  contentSha256: string;
  eventId?: string;
  eventType?: string;
}

/** A valid withdrawal or direct-debit event and where it stands in the batch's `payload`. */
export interface BatchEvent {
  event: PaymentEvent;
  position: number;
}

export interface ClassifiedBatch {
  /** The body as text when it is a {"payload":[...]} batch: each event is stored from it exactly as received. */
  text: string | undefined;
  /** Valid withdrawal and direct-debit events, the first copy of each event id. */
  events: BatchEvent[];
  /** Further copies of an event id in the same batch, with the same content as the first: duplicates. */
  repeated: PaymentEvent[];
  /** Events of types this service does not project, counted by type. */
  ignored: Map<string, number>;
  quarantined: QuarantineItem[];
}

/**
 * The quarantine reason of a copy of an event whose id arrived before with other content; the
 * first version received stands.
 */
export const CONFLICTING_DUPLICATE = 'conflicting_duplicate';

const envelopeSchema = z.looseObject({ payload: z.array(z.unknown()).min(1) });

/**
 * Sorts the events of an authentic request into projectable, ignored and quarantined ones.
 * It never throws: the provider blocks all later deliveries until a request is answered 2xx,
 * so content we cannot use must be set aside, not refused.
 */
export function classifyBatch(body: Buffer): ClassifiedBatch {
  try {
    return classifyParsedBatch(body);
  } catch (error) {
    // E.g. JSON nested so deep that re-encoding one event overflows the stack: keep the whole body.
    return { ...emptyBatch(), quarantined: [quarantineItem(`batch could not be classified: ${(error as Error).message}`, body)] };
  }
}

function emptyBatch(): ClassifiedBatch {
  return { text: undefined, events: [], repeated: [], ignored: new Map(), quarantined: [] };
}

function classifyParsedBatch(body: Buffer): ClassifiedBatch {
  const batch = emptyBatch();
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    batch.quarantined.push(quarantineItem(`body is not JSON: ${describeJsonError(error as Error)}`, body));
    return batch;
  }
  const envelope = envelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    batch.quarantined.push(quarantineItem(`body is not a {"payload":[...]} batch: ${describeZodIssues(envelope.error, 5)}`, body));
    return batch;
  }
  batch.text = text;
  // The first copy of each event id, as sent, to tell a repeated event from a conflicting one.
  const firstCopies = new Map<string, unknown>();
  envelope.data.payload.forEach((element, position) => classifyEvent(element, position, batch, firstCopies));
  return batch;
}

function classifyEvent(element: unknown, position: number, batch: ClassifiedBatch, firstCopies: Map<string, unknown>): void {
  const type = isRecord(element) && typeof element.type === 'string' ? element.type : undefined;
  const eventId = isRecord(element) && typeof element.id === 'string' ? element.id : undefined;
  if (type === undefined) {
    batch.quarantined.push(quarantineItem('event has no string "type"', jsonBytes(element), eventId));
    return;
  }
  const kind = paymentKindOf(type);
  if (kind === undefined) {
    batch.ignored.set(type, (batch.ignored.get(type) ?? 0) + 1);
    return;
  }
  const result = PAYMENT_EVENT_TYPES.has(type) ? schemaFor(kind).safeParse(element) : undefined;
  if (result === undefined || !result.success) {
    const reason = result === undefined ? `unknown event type ${type}` : `invalid ${type} event: ${describeZodIssues(result.error, 5)}`;
    batch.quarantined.push(quarantineItem(reason, jsonBytes(element), eventId, type));
    return;
  }
  const event = result.data as PaymentEvent;
  const key = eventKey(event.id);
  const firstCopy = firstCopies.get(key);
  if (firstCopy === undefined) {
    firstCopies.set(key, element);
    batch.events.push({ event, position });
  } else if (isDeepStrictEqual(firstCopy, element)) {
    batch.repeated.push(event);
  } else {
    batch.quarantined.push(quarantineItem(CONFLICTING_DUPLICATE, jsonBytes(element), eventId, type));
  }
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function quarantineItem(reason: string, content: Buffer, eventId?: string, eventType?: string): QuarantineItem {
  const contentSha256 = createHash('sha256').update(content).digest('hex');
  return { reason, content, contentSha256, eventId, eventType };
}

// V8's messages quote the offending text; reasons are logged, so they keep only where parsing stopped.
function describeJsonError(error: Error): string {
  const position = /position (\d+)/.exec(error.message)?.[1];
  if (position !== undefined) return `syntax error at position ${position}`;
  return /end of (JSON )?input/i.test(error.message) ? 'unexpected end of input' : 'syntax error';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
