import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError } from './errors';

/** A place in the change feed: after the row `id` of transaction `transaction` (both decimal text). */
export interface FeedPosition {
  transaction: string;
  id: string;
}

/** Before every change. */
export const FEED_START: FeedPosition = { transaction: '0', id: '0' };

/** Whether `position` comes after `other` in the feed's (transaction, id) order. */
export function isAfter(position: FeedPosition, other: FeedPosition): boolean {
  const [transaction, otherTransaction] = [BigInt(position.transaction), BigInt(other.transaction)];
  return transaction > otherTransaction || (transaction === otherTransaction && BigInt(position.id) > BigInt(other.id));
}

const MAC_BYTES = 16;

/**
 * Opaque cursors: the position, signed, so that a consumer cannot make one up or alter one (it
 * would skip or repeat changes without noticing). Every replica derives the same key from the
 * read API's token, so a cursor from one replica is good at any other.
 */
export class ChangeCursors {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`upvest-change-cursor:${secret}`).digest();
  }

  encode(position: FeedPosition): string {
    const text = `${position.transaction}.${position.id}`;
    return `${text}.${this.mac(text).toString('base64url')}`;
  }

  /** Throws InvalidCursorError for anything encode() did not produce. */
  decode(cursor: string): FeedPosition {
    const match = /^([0-9]{1,20})\.([0-9]{1,19})\.([A-Za-z0-9_-]{22})$/.exec(cursor);
    if (match === null) throw new InvalidCursorError();
    const [, transaction, id, mac] = match;
    const given = Buffer.from(mac, 'base64url');
    // Decoding ignores the 4 unused low bits of the last character: only the one encoding that
    // encode() makes is a cursor, or a cursor could be altered without the MAC noticing.
    if (given.length !== MAC_BYTES || given.toString('base64url') !== mac) throw new InvalidCursorError();
    if (!timingSafeEqual(given, this.mac(`${transaction}.${id}`))) throw new InvalidCursorError();
    return { transaction, id };
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest().subarray(0, MAC_BYTES);
  }
}
