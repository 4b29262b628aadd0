import { createHash } from 'node:crypto';
import { storableText } from '../database/storableText';

/** Authentic content that cannot be projected, kept for an operator instead of being rejected. */
export interface QuarantineItem {
  reason: string;
  content: Buffer;
  contentSha256: string;
  eventId?: string;
  eventType?: string;
  /** How many elements of the delivery it stands for: 1, unless it is a whole body kept for many. */
  elements?: number;
}

/**
 * A record of authentic content that cannot be used. Its labels go into text columns, so they
 * are made storable; the content is kept byte for byte.
 */
export function quarantineItem(reason: string, content: Buffer, eventId?: string, eventType?: string): QuarantineItem {
  const contentSha256 = createHash('sha256').update(content).digest('hex');
  return { reason: storableText(reason), content, contentSha256, eventId: eventId && storableText(eventId), eventType: eventType && storableText(eventType) };
}
