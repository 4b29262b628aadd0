import { createHash } from 'node:crypto';
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

export interface ClassifiedBatch {
  /** Valid withdrawal and direct-debit events, at most once per event id. */
  events: PaymentEvent[];
  /** Events of types this service does not project, counted by type. */
  ignored: Map<string, number>;
  quarantined: QuarantineItem[];
}

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
    return { events: [], ignored: new Map(), quarantined: [quarantineItem(`batch could not be classified: ${(error as Error).message}`, body)] };
  }
}

function classifyParsedBatch(body: Buffer): ClassifiedBatch {
  const batch: ClassifiedBatch = { events: [], ignored: new Map(), quarantined: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    batch.quarantined.push(quarantineItem(`body is not JSON: ${describeJsonError(error as Error)}`, body));
    return batch;
  }
  const envelope = envelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    batch.quarantined.push(quarantineItem(`body is not a {"payload":[...]} batch: ${describeZodIssues(envelope.error, 5)}`, body));
    return batch;
  }
  const seen = new Set<string>();
  for (const element of envelope.data.payload) {
    classifyEvent(element, batch, seen);
  }
  return batch;
}

function classifyEvent(element: unknown, batch: ClassifiedBatch, seen: Set<string>): void {
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
  if (seen.has(key)) return;
  seen.add(key);
  batch.events.push(event);
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
