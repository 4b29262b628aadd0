import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { eventKey, isValidEvent, PAYMENT_EVENT_TYPES, paymentKindOf, schemaFor } from '../events/upvestEvents';
import { ClassifiedBatch } from '../inbox/delivery';
import { quarantineItem } from '../quarantine/QuarantineItem';
import { describeZodIssues } from '../shared/describeZodIssues';
import { payloadText } from './payloadText';
import { unstorableReason } from './unstorableContent';
import { UnusableElements } from './UnusableElements';

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
    // Nothing known throws here; should something unforeseen, the body is kept rather than refused.
    return { ...emptyBatch(), quarantined: [quarantineItem(`batch could not be classified: ${(error as Error).message}`, body)] };
  }
}

function emptyBatch(): ClassifiedBatch {
  return { text: undefined, events: [], repeated: [], ignored: new Map(), quarantined: [] };
}

function classifyParsedBatch(body: Buffer): ClassifiedBatch {
  const batch = emptyBatch();
  const text = withoutByteOrderMark(body.toString('utf8'));
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
  // The first copy of each event id, as sent, to tell a repeated event from a conflicting one.
  const firstCopies = new Map<string, unknown>();
  const unusable = new UnusableElements();
  const unstorable = new Set<number>();
  const { payload, ...otherMembers } = envelope.data;
  payload.forEach((element, position) => {
    const problem = unstorableReason(element);
    if (problem !== undefined) unstorable.add(position);
    classifyEvent(element, position, problem, batch, firstCopies, unusable);
  });
  batch.quarantined = unusable.quarantineItems(body, payload.length);
  // Postgres parses the text to store the events from it: what it cannot parse must not be in it.
  const whole = unstorable.size === 0 && unstorableReason(otherMembers) === undefined;
  batch.text = whole ? text : payloadText(text, unstorable);
  return batch;
}

/** `unstorable`: why Postgres could not store the element, if it could not. */
function classifyEvent(
  element: unknown,
  position: number,
  unstorable: string | undefined,
  batch: ClassifiedBatch,
  firstCopies: Map<string, unknown>,
  unusable: UnusableElements,
): void {
  const type = isRecord(element) && typeof element.type === 'string' ? element.type : undefined;
  const eventId = isRecord(element) && typeof element.id === 'string' ? element.id : undefined;
  const quarantine = (reason: () => string) => unusable.add(position, reason, () => jsonBytes(element), eventId, type);
  if (type === undefined) {
    quarantine(() => 'event has no string "type"');
    return;
  }
  // Only foreign categories are dropped: a projected one in other letter case or with spaces is a broken event.
  const kind = paymentKindOf(type) ?? paymentKindOf(type.trim().toUpperCase());
  if (kind === undefined) {
    batch.ignored.set(type, (batch.ignored.get(type) ?? 0) + 1);
    return;
  }
  if (!PAYMENT_EVENT_TYPES.has(type)) {
    quarantine(() => `unknown event type ${type}`);
    return;
  }
  if (!isValidEvent(kind, element)) {
    // The reason, only while it is still needed (UnusableElements): zod's account of what is wrong.
    quarantine(() => `invalid ${type} event: ${describeZodIssues(schemaFor(kind).safeParse(element).error as z.ZodError, 5)}`);
    return;
  }
  if (unstorable !== undefined) {
    quarantine(() => `${type} event ${unstorable}`);
    return;
  }
  // Valid, so the element itself is the event: nothing is copied.
  const key = eventKey(element.id);
  const firstCopy = firstCopies.get(key);
  if (firstCopy === undefined) {
    firstCopies.set(key, element);
    batch.events.push({ event: element, position });
  } else if (isDeepStrictEqual(firstCopy, element)) {
    batch.repeated.push(element);
  } else {
    quarantine(() => CONFLICTING_DUPLICATE);
  }
}

/** The element's JSON, or undefined when it is nested too deeply to encode (the stack overflows). */
function jsonBytes(value: unknown): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(value), 'utf8');
  } catch {
    return undefined;
  }
}

/** RFC 8259 lets a parser ignore a leading byte order mark; some senders write one. */
function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
